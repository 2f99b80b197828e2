"""
Slow per-segment reference of the GQ matching rules (``docs/evaluation.md``), written for
clarity: one boolean mask per segment, a Python loop over (GT, prediction) pairs. Also a
panopticapi-style implementation (``np.unique`` over a packed GT/prediction label, a Python loop
over the unique pairs). Both are for the tests and ``tools/benchmark_evaluation.py`` only.
"""

import numpy as np

from goss.evaluation.stats import GQStats

OFFSET = 256 * 256 * 256


def reference_stats(
    gt_ids, gt_segments, pred_ids, pred_segments, num_categories, gt_void=0, pred_void=0
):
    stats = GQStats(num_categories)
    gt_void_mask = gt_ids == gt_void
    gts = [(s["id"], s["category_id"], bool(s.get("iscrowd", 0))) for s in gt_segments]
    preds = [(s["id"], s["category_id"]) for s in pred_segments]
    gmask = {g: gt_ids == g for g, _, _ in gts}
    pmask = {p: pred_ids == p for p, _ in preds}
    g_matched, p_matched = set(), set()
    for g, gc, crowd in gts:
        for p, pc in preds:
            if crowd or gc != pc:
                continue
            inter = int(np.logical_and(gmask[g], pmask[p]).sum())
            if inter == 0:
                continue
            union = int(
                gmask[g].sum()
                + pmask[p].sum()
                - inter
                - np.logical_and(pmask[p], gt_void_mask).sum()
            )
            iou = inter / union
            if iou > 0.5:
                stats.tp[gc] += 1
                stats.iou[gc] += iou
                g_matched.add(g)
                p_matched.add(p)
    for g, gc, crowd in gts:
        if g not in g_matched and not crowd:
            stats.fn[gc] += 1
    for p, pc in preds:
        if p in p_matched:
            continue
        ign = np.logical_and(pmask[p], gt_void_mask).sum()
        for g, gc, crowd in gts:
            if crowd and gc == pc:
                ign += np.logical_and(pmask[p], gmask[g]).sum()
        if ign / pmask[p].sum() <= 0.5:
            stats.fp[pc] += 1
    c = num_categories
    pred_cat = np.full(pred_ids.shape, c)
    for p, pc in preds:
        pred_cat[pmask[p]] = pc
    for g, gc, _ in gts:
        for k in range(c + 1):
            stats.confusion[gc, k] += int((gmask[g] & (pred_cat == k)).sum())
    return stats


def panopticapi_style_stats(
    gt_ids, gt_segments, pred_ids, pred_segments, num_categories, gt_void=0, pred_void=0
):
    """panopticapi's pq_compute_single_core structure, same rules; ids must be in [0, OFFSET)."""
    stats = GQStats(num_categories)
    c = num_categories
    gt_info = {s["id"]: dict(s) for s in gt_segments}
    pred_info = {s["id"]: dict(s) for s in pred_segments}
    labels, counts = np.unique(pred_ids, return_counts=True)
    for lab, cnt in zip(labels, counts):
        if lab == pred_void:
            continue
        pred_info[int(lab)]["area"] = int(cnt)
    labels, counts = np.unique(gt_ids, return_counts=True)
    for lab, cnt in zip(labels, counts):
        if lab == gt_void:
            continue
        gt_info[int(lab)]["area"] = int(cnt)
    packed = gt_ids.astype(np.uint64) * OFFSET + pred_ids.astype(np.uint64)
    labels, counts = np.unique(packed, return_counts=True)
    inter = {}
    for lab, cnt in zip(labels, counts):
        inter[(int(lab // OFFSET), int(lab % OFFSET))] = int(cnt)
    gt_matched, pred_matched = set(), set()
    for (g, p), i in inter.items():
        if g == gt_void or p == pred_void:
            continue
        gs, ps = gt_info[g], pred_info[p]
        if gs.get("iscrowd", 0) or gs["category_id"] != ps["category_id"]:
            continue
        union = ps["area"] + gs["area"] - i - inter.get((gt_void, p), 0)
        iou = i / union
        if iou > 0.5:
            stats.tp[gs["category_id"]] += 1
            stats.iou[gs["category_id"]] += iou
            gt_matched.add(g)
            pred_matched.add(p)
    crowd_by_cat = {}
    for g, gs in gt_info.items():
        if gs.get("iscrowd", 0):
            crowd_by_cat.setdefault(gs["category_id"], []).append(g)
        elif g not in gt_matched:
            stats.fn[gs["category_id"]] += 1
    for p, ps in pred_info.items():
        if p in pred_matched:
            continue
        ign = inter.get((gt_void, p), 0)
        for g in crowd_by_cat.get(ps["category_id"], []):
            ign += inter.get((g, p), 0)
        if ign / ps["area"] <= 0.5:
            stats.fp[ps["category_id"]] += 1
    for (g, p), i in inter.items():
        if g == gt_void:
            continue
        pc = c if p == pred_void else pred_info[p]["category_id"]
        stats.confusion[gt_info[g]["category_id"], pc] += i
    return stats
