"""Training targets of GOSS, computed from the augmented semantic map of one image."""

import numpy as np
import torch

from .bpd_targets import compute_bpd_targets
from .goss_format import UNKNOWN_LABEL

__all__ = ["GOSSTargetGenerator", "SmallSegmentWeights"]


class SmallSegmentWeights:
    """
    The small-segment rule (``INPUT.SMALL_SEGMENT_AREA``, ``INPUT.SMALL_SEGMENT_WEIGHT``): the
    pixels of every class whose area in the source-resolution label map is below ``area`` get the
    semantic loss weight ``weight``, all other pixels 1. Unknown-class (``UNKNOWN_LABEL``) and
    ignored pixels count towards no class.
    """

    def __init__(self, area=0, weight=3.0, ignore_label=255):
        """
        Args:
            area (int): classes whose source-resolution area is below this are small (0: none).
            weight (float): semantic weight of the pixels of small classes.
            ignore_label (int): the ignore / void value of the semantic PNGs (255).
        """
        self.area = area
        self.weight = weight
        self.ignore_label = ignore_label

    def small_classes(self, source_sem_seg):
        """
        Args:
            source_sem_seg (ndarray): ``[H, W]`` train ids at source resolution (before
                augmentation).
        Returns:
            list[int]: the classes present with an area below ``area``.
        """
        if self.area <= 0:
            return []
        source_sem_seg = np.asarray(source_sem_seg)
        labelled = (source_sem_seg != self.ignore_label) & (source_sem_seg != UNKNOWN_LABEL)
        areas = np.bincount(source_sem_seg[labelled].ravel().astype(np.int64))
        return [c for c, a in enumerate(areas) if 0 < a < self.area]

    def __call__(self, sem_seg, source_sem_seg=None):
        """
        Args:
            sem_seg (ndarray): ``[H, W]`` train ids after augmentation.
            source_sem_seg (ndarray or None): the same labels at source resolution, where the
                areas are measured (None: ``sem_seg`` itself).
        Returns:
            ndarray: float32 ``[H, W]`` semantic pixel weights.
        """
        small_classes = self.small_classes(sem_seg if source_sem_seg is None else source_sem_seg)
        weights = np.ones(sem_seg.shape, dtype=np.float32)
        small = np.isin(sem_seg, np.asarray(small_classes, dtype=sem_seg.dtype))
        weights[small] = self.weight
        return weights


class GOSSTargetGenerator:
    """
    Builds ``sem_seg``, ``sem_seg_weights`` (small segments weighted up,
    :class:`SmallSegmentWeights`), ``bpd_field`` and ``bpd_weights`` (the Super-BPD ground truth
    of every labelled region; ignored pixels weigh 0).

    The semantic PNGs hold known train ids ``0..N-1``, ``UNKNOWN_LABEL`` (254) for the unknown
    classes and the ignore value (255) for the source's void. Unknown-class pixels are ignored in
    every mode. Void is ignored by an N-model and is class ``N`` for an N+1-model (unless
    ``void_as_unknown`` is off: then it is ignored there too); pixels already labelled ``N``
    (pasted outliers, :class:`goss.data.OutlierPaste`) are class ``N`` and get a BPD field of
    their own.
    """

    def __init__(
        self,
        num_known,
        train_mode="n",
        ignore_label=255,
        small_segments=None,
        bpd_opencv_compat=False,
        void_as_unknown=True,
    ):
        """
        Args:
            num_known (int): N.
            train_mode (str): ``"n"`` or ``"n_plus_one"``.
            ignore_label (int): the ignore / void value of the semantic PNGs (255).
            small_segments (SmallSegmentWeights or None): the small-segment rule (None: every
                pixel weighs 1).
            bpd_opencv_compat (bool): BPD targets with the authors' OpenCV distance transform.
            void_as_unknown (bool): ``"n_plus_one"``: the source's void is class N (True) or
                ignored (False: class N is learnt from the pasted outliers alone).
        """
        if train_mode not in ("n", "n_plus_one"):
            raise ValueError(f"train_mode must be 'n' or 'n_plus_one', got {train_mode!r}")
        self.num_known = num_known
        self.train_mode = train_mode
        self.ignore_label = ignore_label
        if small_segments is None:
            small_segments = SmallSegmentWeights(0, ignore_label=ignore_label)
        self.small_segments = small_segments
        self.bpd_opencv_compat = bpd_opencv_compat
        self.void_as_unknown = void_as_unknown

    @classmethod
    def from_config(cls, cfg):
        ignore = cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE
        return cls(
            cfg.MODEL.GOSS.NUM_KNOWN_CLASSES,
            cfg.MODEL.GOSS.TRAIN_MODE,
            ignore,
            SmallSegmentWeights(
                cfg.INPUT.SMALL_SEGMENT_AREA, cfg.INPUT.SMALL_SEGMENT_WEIGHT, ignore
            ),
            cfg.MODEL.BPD_HEAD.OPENCV_COMPAT,
            cfg.MODEL.GOSS.VOID_AS_UNKNOWN,
        )

    def __call__(self, sem_seg, source_sem_seg=None):
        """
        Args:
            sem_seg (ndarray): ``[H, W]`` train ids after augmentation (254 = unknown class,
                255 = void, ``N`` = pasted outlier).
            source_sem_seg (ndarray or None): the labels at source resolution (before
                augmentation), where the small-segment rule measures areas (None: ``sem_seg``).
        Returns:
            dict[str, Tensor]: ``sem_seg`` int64 ``[H, W]``, ``sem_seg_weights`` ``[H, W]``,
            ``bpd_field`` ``[2, H, W]``, ``bpd_weights`` ``[H, W]``.
        """
        sem_seg = np.asarray(sem_seg)
        unknown = sem_seg == UNKNOWN_LABEL
        labelled = np.where(unknown, self.ignore_label, sem_seg)
        field, bpd_weights = compute_bpd_targets(
            labelled, ignore_label=self.ignore_label, opencv_compat=self.bpd_opencv_compat
        )
        weights = self.small_segments(sem_seg, source_sem_seg)
        target = labelled.astype(np.int64)
        if self.train_mode == "n_plus_one":
            # Void becomes class N here; padding added later (ImageList) stays ignored.
            if self.void_as_unknown:
                target[target == self.ignore_label] = self.num_known
            target[unknown] = self.ignore_label
        return {
            "sem_seg": torch.as_tensor(target),
            "sem_seg_weights": torch.as_tensor(weights),
            "bpd_field": torch.as_tensor(np.ascontiguousarray(field, dtype=np.float32)),
            "bpd_weights": torch.as_tensor(np.ascontiguousarray(bpd_weights, dtype=np.float32)),
        }
