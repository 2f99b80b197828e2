"""Export of GOSS outputs in COCO panoptic format (PNG + segments_info) for annotation tools."""

import numpy as np

from .panoptic_ids import LABEL_DIVISOR, decode_goss_ids, id2rgb

__all__ = ["goss_to_coco_panoptic"]


def goss_to_coco_panoptic(panoptic, num_known, label_divisor=LABEL_DIVISOR):
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
    ids, categories, clusters = decode_goss_ids(panoptic, label_divisor, num_known + 1)
    for seg_id, category, cluster in zip(ids.tolist(), categories.tolist(), clusters.tolist()):
        mask = panoptic == seg_id
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
