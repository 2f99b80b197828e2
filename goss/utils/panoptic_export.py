"""
Export of GOSS outputs in COCO panoptic format (PNG + ``segments_info``, and the dataset JSON's
``categories``) for ``tools/evaluate_goss.py``, panopticapi-style tools and annotation tools.
"""

import numpy as np

from ..data.goss_format import goss_category
from .panoptic_ids import LABEL_DIVISOR, decode_goss_ids, id2rgb

__all__ = ["coco_panoptic_categories", "goss_to_coco_panoptic"]


def _bbox(mask):
    """COCO ``[x, y, width, height]`` of a non-empty bool ``[H, W]`` mask."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def goss_to_coco_panoptic(panoptic, num_known, label_divisor=LABEL_DIVISOR):
    """
    Args:
        panoptic (ndarray): int ``[H, W]`` GOSS ids (void -1).
        num_known (int): N (category N is "unknown").
        label_divisor (int): id = category * label_divisor + cluster.
    Returns:
        rgb (ndarray): ``[H, W, 3]`` uint8 COCO panoptic PNG content (0 = void).
        segments_info (list[dict]): ``id``, ``category_id`` (train id), ``area``, ``bbox``
        (``[x, y, w, h]``), ``iscrowd``, ``isthing`` (unknown clusters are "things"),
        ``cluster``.
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
                "bbox": _bbox(mask),
                "iscrowd": 0,
                "isthing": int(category == num_known),
                "cluster": cluster,
            }
        )
    return id2rgb(out), segments_info


def coco_panoptic_categories(metadata, num_known):
    """
    The ``categories`` of a COCO panoptic JSON of GOSS outputs, as the GOSS ground truth defines
    them (:func:`goss.data.goss_format.goss_category`): train ids ``0..N-1`` with the known names,
    then ``N`` = "unknown" (``isthing`` 1), with ``color`` where the metadata has
    ``stuff_colors``.

    Args:
        metadata (Metadata): the dataset's; ``stuff_classes`` holds the N + 1 names (without
            it, the known classes are named ``class_<i>``).
        num_known (int): N.
    """
    names = list(metadata.get("stuff_classes", None) or [])
    if not names:  # no dataset: numbered names
        names = [f"class_{i}" for i in range(num_known)] + ["unknown"]
    if len(names) != num_known + 1:
        raise ValueError(
            f"metadata {metadata.get('name', '?')!r}: stuff_classes has {len(names)} names, "
            f"expected N + 1 = {num_known + 1}"
        )
    colors = metadata.get("stuff_colors", None)
    cats = [goss_category(i, name, num_known) for i, name in enumerate(names)]
    if colors is not None and len(colors) == len(cats):
        for cat, color in zip(cats, colors):
            cat["color"] = [int(c) for c in color]
    return cats
