"""
Pixel-score metrics of open-set segmentation: AUROC, AUPR (average precision) and FPR at 95% TPR,
unknown pixels positive, GT-void pixels excluded.

Scores are accumulated in fixed memory as histograms over the 2^16 float16 values: each score
is rounded to the nearest float16 (10-bit mantissa, relative precision about 5e-4, range
+-65504, beyond which scores saturate to +-inf) and counted in the bin of that value. The
metrics are then exact for the rounded scores (ties within a bin are handled as sklearn
handles tied scores), so they add up over images and processes.
"""

import numpy as np

__all__ = ["ScoreHistogram", "score_bins", "curve_metrics"]

NUM_BINS = 1 << 16


def score_bins(scores):
    """
    Args:
        scores (ndarray): float ``[...]``, no NaN.
    Returns:
        ndarray int64 ``[...]`` bin indices in ``0..2^16-1``, monotone in the score.
    """
    s = np.asarray(scores, dtype=np.float32)
    if np.isnan(s).any():
        raise ValueError("pixel scores contain NaN")
    # "+ 0" turns -0.0 into +0.0 so that both zeros share one bin
    with np.errstate(over="ignore"):  # beyond +-65504 saturates to +-inf (documented)
        bits = (s.astype(np.float16) + np.float16(0)).view(np.uint16).astype(np.int64)
    negative = bits >= 0x8000
    # order-preserving key: negative values in reverse order below the positive ones
    return np.where(negative, 0x7FFF - (bits & 0x7FFF), bits + 0x8000)


class ScoreHistogram:
    """
    Additive histograms of scores of negative (known) and positive (unknown) pixels.

    Attributes:
        neg, pos (ndarray): int64 ``[2^16]`` pixel counts per score bin.
    """

    def __init__(self):
        self.neg = np.zeros(NUM_BINS, dtype=np.int64)
        self.pos = np.zeros(NUM_BINS, dtype=np.int64)

    @classmethod
    def from_pixels(cls, scores, positive, valid=None):
        """
        Args:
            scores (ndarray): float ``[H, W]``, higher = more unknown.
            positive (ndarray): bool ``[H, W]``, True for unknown GT pixels.
            valid (ndarray or None): bool ``[H, W]``, False for excluded (void) pixels.
        """
        scores = np.asarray(scores)
        positive = np.asarray(positive, dtype=bool)
        if scores.shape != positive.shape:
            raise ValueError(f"score map {scores.shape} and labels {positive.shape} differ in size")
        if valid is not None:
            scores, positive = scores[valid], positive[valid]
        bins = score_bins(scores).reshape(-1)
        counts = np.bincount(bins * 2 + positive.reshape(-1), minlength=2 * NUM_BINS)
        out = cls()
        out.neg += counts[0::2]
        out.pos += counts[1::2]
        return out

    def __iadd__(self, other):
        self.neg += other.neg
        self.pos += other.pos
        return self

    def __add__(self, other):
        out = ScoreHistogram()
        out += self
        out += other
        return out

    def metrics(self):
        """dict ``AUROC``, ``AUPR``, ``FPR95`` (fractions; NaN without both classes)."""
        return curve_metrics(self.neg, self.pos)


def curve_metrics(neg, pos):
    """
    Args:
        neg, pos (ndarray): ``[B]`` counts per score bin, bins in increasing score order.
    Returns:
        dict: ``AUROC`` (trapezoidal ROC area, as sklearn.roc_auc_score), ``AUPR`` (average
        precision, as sklearn.average_precision_score), ``FPR95`` (the FPR at the highest
        threshold whose TPR >= 0.95).
    """
    keep = (neg + pos) > 0
    n = neg[keep][::-1].astype(np.float64)  # decreasing score: thresholds
    p = pos[keep][::-1].astype(np.float64)
    total_p, total_n = p.sum(), n.sum()
    if total_p == 0 or total_n == 0:
        return {"AUROC": float("nan"), "AUPR": float("nan"), "FPR95": float("nan")}
    tp = np.cumsum(p)
    fp = np.cumsum(n)
    tpr = np.concatenate([[0.0], tp / total_p])
    fpr = np.concatenate([[0.0], fp / total_n])
    auroc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
    precision = tp / (tp + fp)
    aupr = float(np.sum((tpr[1:] - tpr[:-1]) * precision))
    k = int(np.searchsorted(tpr[1:], 0.95 - 1e-12, side="left"))
    fpr95 = float(fpr[1:][k])
    return {"AUROC": auroc, "AUPR": aupr, "FPR95": fpr95}


def per_image_metrics(scores, positive, valid=None):
    """Metrics of one image (None if it lacks known or unknown pixels): the paper's variant."""
    h = ScoreHistogram.from_pixels(scores, positive, valid)
    if h.pos.sum() == 0 or h.neg.sum() == 0:
        return None
    return h.metrics()
