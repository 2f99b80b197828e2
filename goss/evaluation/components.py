"""
Component-level metrics of the unknown class as SegmentMeIfYouCan (SMIYC; Chan et al., NeurIPS
Datasets and Benchmarks 2021) defines them, so that GOSS results can be set beside the
anomaly-segmentation literature. What is computed here, per image and then pooled:

- **GT components**: the 8-connected components of the GT unknown mask (the union of the
  non-crowd unknown segments). A component with fewer than ``min_gt_size`` pixels becomes void,
  like the GT void (id 0, unlisted and crowd segments); every other pixel is in the region of
  interest (ROI). Pixels outside the ROI are dropped from both sides before anything is counted.
- **Predicted components**: either the model's own unknown segments (each segment one component,
  as the model grouped it), or, as SMIYC does for a pixel-score method, the 8-connected
  components of ``unknown_score > threshold`` on the pixels that are not GT void. Predicted
  components with fewer than ``min_pred_size`` pixels off the GT void are dropped.
- **sIoU** of a GT component ``k``: let ``P(k)`` be the union of the predicted components that
  touch ``k``. sIoU is ``|k & P(k)|`` over the union ``|k | P(k)|`` from which the pixels of
  ``P(k)`` that lie on *other* GT components are removed (a prediction that covers two objects
  is not punished twice). A GT component no prediction touches has sIoU 0.
- **PPV** of a predicted component ``p`` (positive predictive value, component-wise precision):
  the fraction of its pixels that lie on some GT component.
- **F1 at tau**: a GT component is a true positive if its sIoU > tau and a false negative
  otherwise; a predicted component is a false positive if its PPV <= tau.
  ``F1(tau) = 2 TP / (2 TP + FN + FP)`` with the counts summed over all images; the reported
  ``mean F1`` is the mean of F1(tau) over tau = 0.25, 0.30, ..., 0.75 (:data:`SMIYC_TAUS`).
  ``sIoU`` and ``PPV`` are reported as means over all GT / predicted components of the dataset.

SMIYC's anomaly track uses ``min_gt_size`` 100 (:data:`SMIYC_MIN_GT_SIZE`) on 2048x1024 images;
its reference code keeps predicted components of at least 500 pixels from the thresholded score.
"""

import numpy as np
from scipy import ndimage

from .clustering import gt_segment_index
from .diagnostics import category_map

__all__ = [
    "SMIYC_MIN_GT_SIZE",
    "SMIYC_TAUS",
    "ComponentStats",
    "component_scores",
    "unknown_components",
]

SMIYC_TAUS = tuple(round(0.25 + 0.05 * i, 2) for i in range(11))
SMIYC_MIN_GT_SIZE = 100
_EIGHT = np.ones((3, 3), dtype=bool)


def component_scores(gt_components, pred_components):
    """
    sIoU of every GT component and PPV of every predicted component (module docstring), on the
    pixels given (apply the ROI first).

    Args:
        gt_components (ndarray): int ``[...]`` GT component ids ``1..K``, 0 = none.
        pred_components (ndarray): int, same shape: predicted component ids ``1..P``, 0 = none.
    Returns:
        (ndarray, ndarray): float64 ``[K']`` sIoU of the GT ids that occur (ascending id) and
        ``[P']`` PPV of the predicted ids that occur.
    """
    g = np.asarray(gt_components, dtype=np.int64).ravel()
    p = np.asarray(pred_components, dtype=np.int64).ravel()
    if g.shape != p.shape:
        raise ValueError(f"GT components {g.shape} and predicted {p.shape} differ in size")
    kg, kp = (int(g.max()) + 1 if g.size else 1), (int(p.max()) + 1 if p.size else 1)
    joint = np.bincount(g * kp + p, minlength=kg * kp).reshape(kg, kp)
    gt_size, pred_size = joint.sum(1), joint.sum(0)
    gt_present, pred_present = np.flatnonzero(gt_size[1:]) + 1, np.flatnonzero(pred_size[1:]) + 1
    overlap = joint[np.ix_(gt_present, pred_present)]  # [K', P']
    inter = overlap.sum(1)
    # |k | P(k)| minus P(k)'s pixels on other GT components = |k| + P(k)'s pixels on no GT one
    outside = joint[0, pred_present]
    union = gt_size[gt_present] + (overlap > 0).astype(np.int64) @ outside
    siou = inter / np.maximum(union, 1)
    ppv = overlap.sum(0) / pred_size[pred_present]
    return siou.astype(np.float64), ppv.astype(np.float64)


def _label(mask):
    return ndimage.label(mask, structure=_EIGHT)[0].astype(np.int64)


def _drop_small(components, min_size):
    """``components`` with the ids of fewer than ``min_size`` pixels set to 0."""
    if min_size <= 1 or not components.any():
        return components
    sizes = np.bincount(components.ravel())
    small = sizes < min_size
    small[0] = True
    return np.where(small[components], 0, components)


def unknown_components(gt_ids, gt_segments, num_known, min_gt_size=SMIYC_MIN_GT_SIZE):
    """
    Args:
        gt_ids (ndarray): int ``[H, W]`` GT segment ids, 0 = void.
        gt_segments (list[dict]): GT ``segments_info`` (train-id categories; unknown = N).
        num_known (int): N.
        min_gt_size (int): GT components with fewer pixels become void.
    Returns:
        (ndarray, ndarray, ndarray): int64 ``[H, W]`` GT component ids (0 = none), the bool
        ``[H, W]`` region of interest (neither GT void nor a small component) and the bool
        ``[H, W]`` mask of the pixels that are not GT void.
    """
    category = category_map(gt_ids, [s for s in gt_segments if not s.get("iscrowd", 0)])
    components = _label(category == num_known)
    kept = _drop_small(components, min_gt_size)
    valid = category >= 0
    return kept, valid & ~((components > 0) & (kept == 0)), valid


class ComponentStats:
    """
    Additive SMIYC component statistics over images (module docstring).

    Args:
        taus (tuple[float]): the F1 thresholds.
    """

    def __init__(self, taus=SMIYC_TAUS):
        self.taus = np.asarray(taus, dtype=np.float64)
        self.tp = np.zeros(len(taus), dtype=np.int64)
        self.fn = np.zeros(len(taus), dtype=np.int64)
        self.fp = np.zeros(len(taus), dtype=np.int64)
        self.siou_sum, self.num_gt = 0.0, 0
        self.ppv_sum, self.num_pred = 0.0, 0
        self.num_images = 0

    def add(self, siou, ppv):
        """Add one image's sIoU (``[K]``) and PPV (``[P]``) values."""
        siou, ppv = np.asarray(siou, np.float64), np.asarray(ppv, np.float64)
        above = siou[None, :] > self.taus[:, None]
        self.tp += above.sum(1)
        self.fn += (~above).sum(1)
        self.fp += (ppv[None, :] <= self.taus[:, None]).sum(1)
        self.siou_sum += float(siou.sum())
        self.num_gt += int(siou.size)
        self.ppv_sum += float(ppv.sum())
        self.num_pred += int(ppv.size)
        self.num_images += 1
        return self

    def __iadd__(self, other):
        if not np.array_equal(self.taus, other.taus):
            raise ValueError("cannot merge component statistics with different thresholds")
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.siou_sum += other.siou_sum
        self.num_gt += other.num_gt
        self.ppv_sum += other.ppv_sum
        self.num_pred += other.num_pred
        self.num_images += other.num_images
        return self

    def f1(self):
        """``[T]`` F1 at each tau (NaN where there is no component at all)."""
        denom = 2 * self.tp + self.fn + self.fp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, 2 * self.tp / np.maximum(denom, 1), np.nan)

    def summarize(self, suffix=""):
        """
        Returns:
            dict: ``sIoU_uk``, ``PPV_uk``, ``mF1_uk`` (percent; None where undefined) and
            ``F1_uk_<25|50|75>``, each key followed by ``suffix``.
        """
        f1 = self.f1()
        out = {
            "sIoU_uk": 100.0 * self.siou_sum / self.num_gt if self.num_gt else None,
            "PPV_uk": 100.0 * self.ppv_sum / self.num_pred if self.num_pred else None,
            "mF1_uk": None if np.isnan(f1).all() else 100.0 * float(np.mean(f1)),
        }
        for tau in (0.25, 0.5, 0.75):
            hit = np.flatnonzero(np.isclose(self.taus, tau))
            if hit.size:
                value = f1[hit[0]]
                out[f"F1_uk_{round(tau * 100)}"] = None if np.isnan(value) else 100.0 * value
        return {k + suffix: v for k, v in out.items()}


class ComponentAccumulator:
    """
    The SMIYC rows of one evaluation: the model's unknown segments and, with a score threshold,
    the connected components of the thresholded unknown score.

    Args:
        num_known (int): N; the unknown category is N.
        min_gt_size (int): GT components below it become void.
        min_pred_size (int): predicted components below it (inside the ROI) are dropped.
        score_threshold (float or None): unknown score above which a pixel is predicted unknown
            for the thresholded-score row (None: no such row).
    """

    def __init__(
        self, num_known, min_gt_size=SMIYC_MIN_GT_SIZE, min_pred_size=0, score_threshold=None
    ):
        self.num_known = int(num_known)
        self.min_gt_size = int(min_gt_size)
        self.min_pred_size = int(min_pred_size)
        self.score_threshold = None if score_threshold is None else float(score_threshold)
        self.segments = ComponentStats()
        self.thresholded = ComponentStats()

    def add_image(self, gt_ids, gt_segments, pred_ids, pred_segments, unknown_score=None):
        """Args as :meth:`goss.evaluation.GQAccumulator.add_image`."""
        gt, roi, valid = unknown_components(gt_ids, gt_segments, self.num_known, self.min_gt_size)
        unknown = [s for s in pred_segments if s["category_id"] == self.num_known]
        pred = gt_segment_index(pred_ids, unknown)  # 1..P: the model's unknown segments
        self._add(self.segments, gt, roi, np.where(valid, pred, 0))
        if self.score_threshold is not None and unknown_score is not None:
            # as SMIYC: GT void removed, then components, then the small GT components removed
            mask = (np.asarray(unknown_score) > self.score_threshold) & valid
            self._add(self.thresholded, gt, roi, _label(mask))

    def _add(self, stats, gt, roi, pred):
        pred = _drop_small(pred, self.min_pred_size)
        stats.add(*component_scores(gt[roi], pred[roi]))

    def __iadd__(self, other):
        self.segments += other.segments
        self.thresholded += other.thresholded
        return self

    def summarize(self):
        """The keys of :meth:`ComponentStats.summarize`; ``*_thresholded`` for the score row."""
        out = self.segments.summarize()
        out["num_uk_components"] = self.segments.num_gt
        if self.thresholded.num_images:
            out.update(self.thresholded.summarize("_thresholded"))
        return out
