"""Export of GOSS outputs in COCO panoptic format (PNG + segments_info) for annotation tools."""

import numpy as np

from .visualizer import split_goss_segments

__all__ = ["id2rgb", "goss_to_coco_panoptic"]


def id2rgb(ids):
    """``[H, W]`` non-negative ids -> ``[H, W, 3]`` uint8 (id = R + 256 G + 256^2 B)."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)


def goss_to_coco_panoptic(panoptic, num_known, label_divisor=1000):
    """
    Args:
        panoptic (ndarray): int ``[H, W]`` GOSS ids (void -1).
        num_known (int): N (category N is "unknown").
        label_divisor (int): id = category * label_divisor + cluster.
    Returns:
        rgb (ndarray): ``[H, W, 3]`` uint8 COCO panoptic PNG content (0 = void).
        segments_info (list[dict]): ``id``, ``category_id`` (train id), ``area``, ``iscrowd``,
        ``isthing`` (unknown clusters are "things"), ``cluster``.
    """
    panoptic = np.asarray(panoptic)
    out = np.zeros(panoptic.shape, dtype=np.int64)
    segments_info = []
    for category, cluster, mask in split_goss_segments(panoptic, num_known, label_divisor):
        new_id = len(segments_info) + 1
        out[mask] = new_id
        segments_info.append(
            {
                "id": new_id,
                "category_id": category,
                "area": int(mask.sum()),
                "iscrowd": 0,
                "isthing": int(category == num_known),
                "cluster": cluster,
            }
        )
    return id2rgb(out), segments_info
