"""
Super-BPD ground truth (Wan et al., CVPR 2020): the boundary-to-pixel direction (BPD) field of a
train-id label map and its class-balancing weights (``docs/super-bpd.md``,
training targets).
"""

import numpy as np
from scipy import ndimage

__all__ = ["compute_bpd_targets"]

# Regions are 8-connected components of one train id.
_STRUCTURE = np.ones((3, 3), dtype=bool)


def _check_sem_seg(sem_seg):
    if not isinstance(sem_seg, np.ndarray):
        raise TypeError(f"compute_bpd_targets: sem_seg must be a numpy array, got {type(sem_seg)}")
    if sem_seg.ndim != 2:
        raise ValueError(f"compute_bpd_targets: sem_seg must be [H, W], got shape {sem_seg.shape}")
    if not np.issubdtype(sem_seg.dtype, np.integer):
        raise TypeError(f"compute_bpd_targets: sem_seg must hold integer ids, got {sem_seg.dtype}")
    if sem_seg.size == 0:
        raise ValueError(f"compute_bpd_targets: sem_seg is empty (shape {sem_seg.shape})")


def _label_regions(sem_seg, ignore_label):
    """int32 [H, W] region ids 1..K (0 = ignore) of the 8-connected regions of every train id."""
    regions = np.zeros(sem_seg.shape, np.int32)
    count = 0
    for value in np.unique(sem_seg):
        if value == ignore_label:
            continue
        comp, n = ndimage.label(sem_seg == value, structure=_STRUCTURE)
        regions[comp > 0] = comp[comp > 0] + count
        count += n
    return regions, count


def _edt_field(regions, field):
    """Exact Euclidean: per region, p - (nearest pixel outside the region or the image)."""
    H, W = regions.shape
    for k, box in enumerate(ndimage.find_objects(regions), start=1):
        if box is None:
            continue
        r0, r1, c0, c1 = box[0].start, box[0].stop, box[1].start, box[1].stop
        # One pixel of frame around the bounding box; outside the image it stays 0 (a boundary).
        inside = np.zeros((r1 - r0 + 2, c1 - c0 + 2), bool)
        inside[1:-1, 1:-1] = regions[r0:r1, c0:c1] == k
        _, (near_r, near_c) = ndimage.distance_transform_edt(inside, return_indices=True)
        rr, cc = np.nonzero(inside)
        field[0, rr + r0 - 1, cc + c0 - 1] = rr - near_r[rr, cc]
        field[1, rr + r0 - 1, cc + c0 - 1] = cc - near_c[rr, cc]


def _opencv_field(sem_seg, ignore_label, field):
    """The authors' call: per train id, OpenCV's labelled distance transform on a 0-padded mask."""
    import cv2

    for value in np.unique(sem_seg):
        if value == ignore_label:
            continue
        mask = np.pad((sem_seg == value).astype(np.uint8), 1)
        _, labels = cv2.distanceTransformWithLabels(
            mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
        )
        # OpenCV numbers the zero pixels 1, 2, ... in raster order.
        zeros = np.argwhere(mask == 0)
        rr, cc = np.nonzero(mask)
        nearest = zeros[labels[rr, cc] - 1]
        field[0, rr - 1, cc - 1] = rr - nearest[:, 0]
        field[1, rr - 1, cc - 1] = cc - nearest[:, 1]


def compute_bpd_targets(sem_seg, ignore_label=255, opencv_compat=False):
    """
    BPD field and weights of a label map. Every 8-connected region of one train id is a region; the
    image border and ignore pixels count as outside.

    Args:
        sem_seg (ndarray): integer train ids [H, W].
        ignore_label (int): pixels with this id get a zero field and weight 0.
        opencv_compat (bool): find the nearest outside pixel with the authors' OpenCV call
            (``cv2.distanceTransformWithLabels``, which uses a 5x5 chamfer metric and scan-order
            ties) per train id, instead of the exact Euclidean distance transform per region.

    Returns:
        field (ndarray): float32 [2, H, W], (delta-row, delta-col) from the nearest pixel outside
            the pixel's region to the pixel; not normalised (length >= 1), 0 on ignore pixels.
        weight (ndarray): float32 [H, W], 1 / sqrt(area of the pixel's region), 0 on ignore.
    """
    _check_sem_seg(sem_seg)
    regions, count = _label_regions(sem_seg, ignore_label)
    field = np.zeros((2,) + sem_seg.shape, np.float32)
    if opencv_compat:
        _opencv_field(sem_seg, ignore_label, field)
    else:
        _edt_field(regions, field)
    areas = np.bincount(regions.ravel(), minlength=count + 1).astype(np.float64)
    areas[0] = np.inf  # ignore pixels
    weight = (1.0 / np.sqrt(areas))[regions].astype(np.float32)
    return field, weight
