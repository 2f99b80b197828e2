"""Seeded synthetic GT/prediction pairs in GOSS form (for parity tests and the benchmark)."""

import numpy as np


def _voronoi(rng, h, w, n):
    """``[H, W]`` int64 partition into ``n`` Voronoi cells (indices 0..n-1)."""
    ys = rng.integers(0, h, n)
    xs = rng.integers(0, w, n)
    yy, xx = np.mgrid[0:h, 0:w]
    best = np.full((h, w), np.inf)
    out = np.zeros((h, w), dtype=np.int64)
    for k in range(n):
        d = (yy - ys[k]) ** 2 + (xx - xs[k]) ** 2
        closer = d < best
        best[closer] = d[closer]
        out[closer] = k
    return out


def random_pair(rng, h=48, w=64, num_known=4, n_gt=8, n_pred=10, big_ids=False):
    """
    Returns:
        gt_ids, gt_segments, pred_ids, pred_segments: void 0 on both sides; the prediction is a
        perturbed copy of the GT mixed with a random partition so that some segments match.
    """
    c = num_known + 1
    cells = _voronoi(rng, h, w, n_gt)
    cell_cat = rng.integers(0, c, n_gt)
    id_pool = rng.choice(np.arange(1, 1 << 24 if big_ids else 10 * n_gt), n_gt, replace=False)
    gt_ids = id_pool[cells]
    gt_ids[rng.random((h, w)) < 0.05] = 0
    void_cell = rng.integers(0, n_gt)
    if rng.random() < 0.5:
        gt_ids[cells == void_cell] = 0
    present = np.unique(gt_ids)
    gt_segments = [
        {"id": int(i), "category_id": int(cell_cat[k]), "iscrowd": int(rng.random() < 0.1)}
        for k, i in enumerate(id_pool)
        if i in present and i != 0
    ]
    other = _voronoi(rng, h, w, n_pred)
    use_other = rng.random((h, w)) < rng.uniform(0.0, 0.6)
    pred_cells = np.where(use_other, other + n_gt, cells)
    pred_cat_table = np.concatenate([cell_cat, rng.integers(0, c, n_pred)])
    flip = rng.random(n_gt) < 0.2
    pred_cat_table[:n_gt][flip] = rng.integers(0, c, int(flip.sum()))
    pred_pool = rng.choice(np.arange(1, 1000 * c), n_gt + n_pred, replace=False)
    pred_ids = pred_pool[pred_cells]
    pred_ids[rng.random((h, w)) < 0.03] = 0
    present = np.unique(pred_ids)
    pred_segments = [
        {"id": int(i), "category_id": int(pred_cat_table[k])}
        for k, i in enumerate(pred_pool)
        if i in present and i != 0
    ]
    return gt_ids, gt_segments, pred_ids, pred_segments
