"""GQ_clu: class-agnostic quality of a whole-image clustering against the GT partition."""

import numpy as np
from scipy import ndimage

from .stats import image_stats

__all__ = ["clustering_stats", "gt_component_partition", "gt_components", "gt_segment_index"]

_EIGHT = np.ones((3, 3), dtype=bool)


def gt_component_partition(gt_index):
    """
    Split every GT segment into its 8-connected components.

    Args:
        gt_index (ndarray): int ``[H, W]`` contiguous GT segment indices, 0 = void.
    Returns:
        ndarray int64 ``[H, W]``: component ids ``1..K``, 0 = void.
    """
    gt_index = np.asarray(gt_index)
    out = np.zeros(gt_index.shape, dtype=np.int64)
    next_id = 0
    for k, box in enumerate(ndimage.find_objects(gt_index.astype(np.int64)), start=1):
        if box is None:
            continue
        mask = gt_index[box] == k
        comp, n = ndimage.label(mask, structure=_EIGHT)
        sub = out[box]
        sub[mask] = comp[mask] + next_id
        next_id += n
    return out


def gt_segment_index(gt_ids, gt_segments):
    """
    Args:
        gt_ids (ndarray): integer ``[H, W]`` GT segment ids.
        gt_segments (list[dict]): GT ``segments_info``.
    Returns:
        ndarray int64 ``[H, W]``: ``1..S`` = position of the pixel's segment among the sorted
        non-crowd segment ids, 0 for void, crowd and unlisted ids.
    """
    valid_ids = {int(s["id"]) for s in gt_segments if not s.get("iscrowd", 0)}
    keys = np.array(sorted(valid_ids), dtype=np.int64)
    index = np.zeros(np.shape(gt_ids), dtype=np.int64)
    if keys.size:
        pos = np.searchsorted(keys, gt_ids)
        pos = np.minimum(pos, keys.size - 1)
        hit = keys[pos] == gt_ids
        index[hit] = pos[hit] + 1
    return index


def gt_components(gt_ids, gt_segments):
    """
    The GT partition GQ_clu is scored against: int64 ``[H, W]`` ids ``1..K`` of the 8-connected
    components of every non-crowd GT segment, 0 = void.
    """
    return gt_component_partition(gt_segment_index(gt_ids, gt_segments))


def clustering_stats(gt_ids, gt_segments, clusters, gt_void=0, where="image", components=None):
    """
    Args:
        gt_ids (ndarray): integer ``[H, W]`` GT segment ids (``gt_void`` = void).
        gt_segments (list[dict]): GT ``segments_info``.
        clusters (ndarray): integer ``[H, W]`` whole-image partition (negative = void).
        components (ndarray or None): :func:`gt_components` of the GT, when already computed.
    Returns:
        GQStats with one category: every GT component and every cluster is of category 0.
    """
    gt_ids = np.asarray(gt_ids)
    clusters = np.asarray(clusters).astype(np.int64)
    if gt_ids.shape != clusters.shape:
        raise ValueError(
            f"{where}: GT id map {gt_ids.shape} and clusters {clusters.shape} differ in size"
        )
    comps = gt_components(gt_ids, gt_segments) if components is None else components
    gt_seg = [{"id": int(i), "category_id": 0} for i in range(1, int(comps.max()) + 1)]
    pred_ids = np.where(clusters < 0, -1, clusters)
    pred_seg = [{"id": int(i), "category_id": 0} for i in np.unique(pred_ids) if i >= 0]
    return image_stats(comps, gt_seg, pred_ids, pred_seg, 1, gt_void=0, pred_void=-1, where=where)
