"""
An independent check of the PQ core of GQ: the known-class and unknown parts computed with
torchmetrics' ``PanopticQuality`` on seeded random GT/prediction pairs.

Known classes are "stuff" (one segment per class present, as the GOSS builders write them) and
the unknown class is a "thing" (one segment per object). Both implementations follow the panoptic
quality rules GOSS uses: IoU > 0.5 within a category, GT void left out of the union, an unmatched
prediction mostly on GT void not a false positive. They differ, by design, on *predicted*
void: torchmetrics removes a GT segment's predicted-void pixels from its union and does not count
a GT segment that is mostly predicted void as a false negative, where GQ (like panopticapi) keeps
those pixels and counts the miss. The predictions here therefore cover every pixel; with
predicted void added, the IoU sums differ (checked in the last test).
"""

import numpy as np
import pytest
import torch

from goss.evaluation import GQStats, category_quality, gq_summary, image_stats
from goss.utils.reference.synthetic import _voronoi

tm = pytest.importorskip("torchmetrics.detection")

N = 4  # known 0..3, unknown 4; 5 = void for torchmetrics


def _segments(cells, cell_category, void, id_offset):
    """Per-pixel GOSS ids and segments_info plus the torchmetrics (category, instance) map."""
    category = cell_category[cells]
    instance = np.where(category == N, cells + 1, 0)  # unknown: one object per cell
    ids = np.where(category == N, id_offset + cells + 1, category + 1)
    ids[void] = 0
    category = np.where(void, N + 1, category)
    instance[void] = 0
    segments = [
        {"id": int(i), "category_id": int(category[ids == i][0]), "iscrowd": 0}
        for i in np.unique(ids)
        if i
    ]
    return ids, segments, np.stack([category, instance], axis=-1)


def _random_pair(rng, h=40, w=56, pred_void_fraction=0.0):
    n_gt, n_other = int(rng.integers(4, 12)), int(rng.integers(3, 10))
    cells = _voronoi(rng, h, w, n_gt)
    gt_cat = rng.integers(0, N + 1, n_gt)
    gt_void = rng.random((h, w)) < 0.05
    if rng.random() < 0.4:
        gt_void |= cells == rng.integers(0, n_gt)
    # the prediction: the GT cells mixed with another partition, some categories changed
    other = _voronoi(rng, h, w, n_other) + n_gt
    pred_cells = np.where(rng.random((h, w)) < rng.uniform(0.0, 0.5), other, cells)
    pred_cat = np.concatenate([gt_cat, rng.integers(0, N + 1, n_other)])
    flip = rng.random(n_gt) < 0.25
    pred_cat[:n_gt][flip] = rng.integers(0, N + 1, int(flip.sum()))
    pred_void = rng.random((h, w)) < pred_void_fraction
    gt = _segments(cells, gt_cat, gt_void, 1000)
    pred = _segments(pred_cells, pred_cat, pred_void, 2000)
    return gt, pred


def _both(seed, pred_void_fraction=0.0, num_images=6):
    """GOSS's GQStats and torchmetrics' PanopticQuality over the same random pairs."""
    rng = np.random.default_rng(seed)
    metric = tm.PanopticQuality(things={N}, stuffs=set(range(N)), allow_unknown_preds_category=True)
    stats = GQStats(N + 1)
    for _ in range(num_images):
        pair = _random_pair(rng, pred_void_fraction=pred_void_fraction)
        (gt_ids, gt_segs, gt_tm), (pred_ids, pred_segs, pred_tm) = pair
        stats += image_stats(gt_ids, gt_segs, pred_ids, pred_segs, N + 1)
        metric.update(torch.from_numpy(pred_tm[None]), torch.from_numpy(gt_tm[None]))
    return stats, metric


@pytest.mark.parametrize("seed", range(4))
def test_pq_parts_match_torchmetrics(seed):
    stats, metric = _both(seed)
    # per category; torchmetrics puts the things first: its order -> category ids 0..N
    order = [metric.cat_id_to_continuous_id[c] for c in range(N + 1)]
    np.testing.assert_array_equal(stats.tp, metric.true_positives.numpy()[order])
    np.testing.assert_array_equal(stats.fp, metric.false_positives.numpy()[order])
    np.testing.assert_array_equal(stats.fn, metric.false_negatives.numpy()[order])
    # torchmetrics divides in float32
    np.testing.assert_allclose(stats.iou, metric.iou_sum.numpy()[order], rtol=1e-6)
    assert stats.tp.sum() > 0 and stats.fp.sum() > 0 and stats.fn.sum() > 0, "a real test"
    # the GQ parts: GQ_uk is the unknown class's PQ, GQ_kn_present the mean over known classes
    # that occur, i.e. torchmetrics' mean over the known classes alone
    summary = gq_summary(stats, N)
    metric.return_per_class = metric.return_sq_and_rq = True  # read by compute()
    pq_sq_rq = metric.compute().double().numpy()[order]  # [N + 1, 3], category order
    assert summary["GQ_uk"] == pytest.approx(pq_sq_rq[N, 0], rel=1e-6)
    assert summary["SQ_uk"] == pytest.approx(pq_sq_rq[N, 1], rel=1e-6)
    assert summary["RQ_uk"] == pytest.approx(pq_sq_rq[N, 2])
    present = category_quality(stats)["present"][:N]
    assert summary["GQ_kn_present"] == pytest.approx(pq_sq_rq[:N, 0][present].mean(), rel=1e-6)
    # GQ_kn (Eq. 1) counts absent known classes as 0, over all N
    assert summary["GQ_kn"] == pytest.approx(pq_sq_rq[:N, 0].sum() / N, rel=1e-6)


def test_predicted_void_is_where_they_differ():
    """The check above can tell the two apart: with predicted void the IoU sums differ."""
    stats, metric = _both(0, pred_void_fraction=0.05)
    order = [metric.cat_id_to_continuous_id[c] for c in range(N + 1)]
    assert (metric.iou_sum.numpy()[order] > stats.iou + 1e-6).any()
