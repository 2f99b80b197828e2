"""Training targets of GOSS, computed from the augmented semantic map of one image."""

import numpy as np
import torch

from .bpd_targets import compute_bpd_targets
from .goss_format import UNKNOWN_LABEL

__all__ = ["GOSSTargetGenerator"]


class GOSSTargetGenerator:
    """
    Builds ``sem_seg``, ``sem_seg_weights`` (small segments weighted up), ``bpd_field`` and
    ``bpd_weights`` (the Super-BPD ground truth of every labelled region; ignored pixels weigh 0).

    The semantic PNGs hold known train ids ``0..N-1``, ``UNKNOWN_LABEL`` (254) for the unknown
    classes and the ignore value (255) for the source's void. Unknown-class pixels are ignored in
    every mode. Void is ignored by an N-model and is class ``N`` for an N+1-model; pixels already
    labelled ``N`` (pasted outliers, :class:`goss.data.OutlierPaste`) are class ``N`` and get a
    BPD field of their own.
    """

    def __init__(
        self,
        num_known,
        train_mode="n",
        ignore_label=255,
        small_segment_weight=3.0,
        bpd_opencv_compat=False,
    ):
        """
        Args:
            num_known (int): N.
            train_mode (str): ``"n"`` or ``"n_plus_one"``.
            ignore_label (int): the ignore / void value of the semantic PNGs (255).
            small_segment_weight (float): semantic weight of the classes flagged small.
            bpd_opencv_compat (bool): BPD targets with the authors' OpenCV distance transform.
        """
        if train_mode not in ("n", "n_plus_one"):
            raise ValueError(f"train_mode must be 'n' or 'n_plus_one', got {train_mode!r}")
        self.num_known = num_known
        self.train_mode = train_mode
        self.ignore_label = ignore_label
        self.small_segment_weight = small_segment_weight
        self.bpd_opencv_compat = bpd_opencv_compat

    def __call__(self, sem_seg, small_classes=()):
        """
        Args:
            sem_seg (ndarray): ``[H, W]`` train ids after augmentation (254 = unknown class,
                255 = void, ``N`` = pasted outlier).
            small_classes (iterable[int]): classes whose segments are small at source resolution.
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
        weights = np.ones(sem_seg.shape, dtype=np.float32)
        small = np.isin(sem_seg, np.asarray(list(small_classes), dtype=sem_seg.dtype))
        weights[small] = self.small_segment_weight
        target = labelled.astype(np.int64)
        if self.train_mode == "n_plus_one":
            # Void becomes class N here; padding added later (ImageList) stays ignored.
            target[target == self.ignore_label] = self.num_known
            target[unknown] = self.ignore_label
        return {
            "sem_seg": torch.as_tensor(target),
            "sem_seg_weights": torch.as_tensor(weights),
            "bpd_field": torch.as_tensor(np.ascontiguousarray(field, dtype=np.float32)),
            "bpd_weights": torch.as_tensor(np.ascontiguousarray(bpd_weights, dtype=np.float32)),
        }
