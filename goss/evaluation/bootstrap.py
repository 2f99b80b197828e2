"""Bootstrap confidence intervals of GQ and GQ_clu over images (seeded)."""

import numpy as np

from .metrics import class_agnostic_quality, gq_summary
from .stats import GQStats

__all__ = ["bootstrap_clu", "bootstrap_gq"]


def bootstrap_gq(per_image, num_known, num_samples=1000, seed=0, alpha=0.05, lam=0.5):
    """
    Resample images with replacement and recompute the dataset-level summaries.

    Args:
        per_image (ndarray): float64 ``[I, N + 1, 4]`` per-image TP, FP, FN, IoU sum
            (:meth:`GQStats.as_array` of each image).
        num_known (int): N.
        num_samples (int): bootstrap replicates B.
        seed (int): seed of the resampling.
        alpha (float): 1 - confidence level.
    Returns:
        dict ``{metric: (low, high)}`` (fractions) for GQ, GQ_kn, GQ_kn_present, GQ_uk.
    """
    keys = ("GQ", "GQ_kn", "GQ_kn_present", "GQ_uk")
    return _bootstrap(
        per_image, lambda s: gq_summary(s, num_known, lam), keys, num_samples, seed, alpha
    )


def bootstrap_clu(per_image, num_samples=1000, seed=0, alpha=0.05):
    """
    :func:`bootstrap_gq` of GQ_clu: ``per_image`` float64 ``[I, 1, 4]`` per-image statistics of
    the class-agnostic clustering match (:func:`goss.evaluation.clustering.clustering_stats`).
    With the same images and seed it draws the same replicates as :func:`bootstrap_gq`.

    Returns:
        dict ``{"GQ_clu": (low, high)}`` (fractions).
    """
    return _bootstrap(per_image, class_agnostic_quality, ("GQ_clu",), num_samples, seed, alpha)


def _bootstrap(per_image, summarize, keys, num_samples, seed, alpha):
    """Percentile interval of ``summarize(GQStats)[key]`` over image resamples, per key."""
    per_image = np.asarray(per_image, dtype=np.float64)
    num_images, num_categories = per_image.shape[:2]
    if num_images == 0:
        return {}
    rng = np.random.default_rng(seed)
    flat = per_image.reshape(num_images, -1)
    values = {k: np.empty(num_samples) for k in keys}
    chunk = 256
    for start in range(0, num_samples, chunk):
        b = min(chunk, num_samples - start)
        # counts of each image in each replicate: [b, I]
        weights = rng.multinomial(num_images, np.full(num_images, 1.0 / num_images), size=b)
        sums = (weights @ flat).reshape(b, num_categories, 4)
        for j in range(b):
            s = GQStats(num_categories)
            s.tp, s.fp, s.fn = (np.rint(sums[j, :, i]).astype(np.int64) for i in range(3))
            s.iou = sums[j, :, 3]
            r = summarize(s)
            for k in keys:
                values[k][start + j] = r[k]
    q = (100 * alpha / 2, 100 * (1 - alpha / 2))
    return {k: tuple(float(x) for x in np.percentile(v, q)) for k, v in values.items()}
