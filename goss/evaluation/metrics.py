"""GQ summaries (paper §3.2, Eq. 1) from accumulated :class:`GQStats`. Values are fractions."""

import numpy as np

__all__ = ["category_quality", "gq_summary", "miou", "class_agnostic_quality"]


def category_quality(stats):
    """
    Args:
        stats (GQStats): C categories.
    Returns:
        dict of float64 ``[C]`` arrays ``PQ``, ``SQ``, ``RQ`` (0 where undefined) and bool
        ``present`` (TP + FP + FN > 0).
    """
    tp = stats.tp.astype(np.float64)
    denom = tp + 0.5 * stats.fp + 0.5 * stats.fn
    with np.errstate(divide="ignore", invalid="ignore"):
        pq = np.where(denom > 0, stats.iou / denom, 0.0)
        sq = np.where(tp > 0, stats.iou / tp, 0.0)
        rq = np.where(denom > 0, tp / denom, 0.0)
    return {"PQ": pq, "SQ": sq, "RQ": rq, "present": denom > 0}


def gq_summary(stats, num_known, lam=0.5):
    """
    Args:
        stats (GQStats): N + 1 categories (known ``0..N-1``, unknown ``N``).
        num_known (int): N.
        lam (float): GQ = lam * GQ_kn + (1 - lam) * GQ_uk.
    Returns:
        dict of floats (fractions): ``GQ``, ``GQ_kn`` (mean over all N known classes, absent
        ones count 0: Eq. 1), ``GQ_kn_present`` (mean over known classes with TP + FP + FN > 0,
        the PQ convention), ``SQ_kn``, ``RQ_kn`` (same averaging as ``GQ_kn``),
        ``SQ_kn_present``, ``RQ_kn_present``, ``GQ_uk``, ``SQ_uk``, ``RQ_uk``.
    """
    if stats.num_categories != num_known + 1:
        raise ValueError(
            f"statistics have {stats.num_categories} categories, expected N + 1 = {num_known + 1}"
        )
    q = category_quality(stats)
    kn = slice(0, num_known)
    present = q["present"][kn]
    out = {}
    for m in ("PQ", "SQ", "RQ"):
        name = "GQ" if m == "PQ" else m
        out[f"{name}_kn"] = float(q[m][kn].mean()) if num_known else 0.0
        out[f"{name}_kn_present"] = float(q[m][kn][present].mean()) if present.any() else 0.0
        out[f"{name}_uk"] = float(q[m][num_known])
    out["GQ"] = lam * out["GQ_kn"] + (1.0 - lam) * out["GQ_uk"]
    return out


def class_agnostic_quality(stats):
    """PQ/SQ/RQ of a one-category :class:`GQStats` (used for GQ_clu)."""
    q = category_quality(stats)
    return {"GQ_clu": float(q["PQ"][0]), "SQ_clu": float(q["SQ"][0]), "RQ_clu": float(q["RQ"][0])}


def miou(confusion):
    """
    Args:
        confusion (ndarray): ``[C, C + 1]`` pixel counts ``[gt, pred]`` over GT-non-void pixels,
            last column = predicted void (counts as a miss of the GT class).
    Returns:
        (mIoU, per-class IoU ``[C]``): IoU_c = TP / (TP + FP + FN); mIoU is the mean over classes
        with GT or predicted pixels (a predicted but absent class counts 0); NaN IoU for classes
        with neither.
    """
    c = confusion.shape[0]
    tp = np.diag(confusion[:, :c]).astype(np.float64)
    gt = confusion.sum(axis=1)
    pred = confusion[:, :c].sum(axis=0)
    union = gt + pred - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
    valid = union > 0
    return (float(iou[valid].mean()) if valid.any() else 0.0), iou
