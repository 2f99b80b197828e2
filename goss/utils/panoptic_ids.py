"""
The two panoptic id encodings GOSS uses, in one place (NumPy only, no Detectron2 imports).

* **PNG ids** (GOSS ground truth, exported predictions): a COCO panoptic PNG stores the id of
  each pixel as ``R + 256 G + 256^2 B``; id 0 is void. :func:`rgb2id` and :func:`id2rgb`.
* **GOSS ids** (the model's ``panoptic_seg``): ``category * label_divisor + cluster``, with
  known class ``c`` as ``c * label_divisor`` (cluster 0), the k-th unknown cluster as
  ``N * label_divisor + k`` (k >= 1) and void as ``-1``. :func:`decode_goss_ids`.

``docs/formats.md`` describes both, with the id spaces of the datasets.
"""

import numpy as np

__all__ = ["LABEL_DIVISOR", "VOID", "decode_goss_ids", "id2rgb", "rgb2id"]

# The default label divisor of GOSS ids: the datasets' metadata ``label_divisor`` and the config
# default ``MODEL.GOSS.LABEL_DIVISOR`` (which must agree; see goss.engine.checks).
LABEL_DIVISOR = 1000
# The GOSS id of void (unlabelled) pixels in a prediction.
VOID = -1


def rgb2id(rgb):
    """``[H, W, 3]`` (or more channels; the first three are used) -> int64 ``[H, W]`` ids."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"expected an [H, W, 3] RGB array, got shape {rgb.shape}")
    rgb = rgb[..., :3].astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def id2rgb(ids):
    """``[H, W]`` ids in ``0..2^24-1`` -> ``[H, W, 3]`` uint8 (id = R + 256 G + 256^2 B)."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], axis=-1).astype(np.uint8)


def decode_goss_ids(panoptic, label_divisor, num_categories, where="panoptic_seg"):
    """
    The distinct non-void ids of a GOSS id map, and what they decode to.

    Args:
        panoptic (ndarray): int ``[H, W]`` GOSS ids ``category * label_divisor + cluster``,
            void ``-1``.
        label_divisor (int): as in the model that wrote the map.
        num_categories (int): N + 1 (known ``0..N-1``, unknown ``N``).
        where (str): what the map is, for error messages.
    Returns:
        tuple of three int64 ndarrays ``[K]``: ``ids`` (ascending), ``categories``, ``clusters``.
    Raises:
        ValueError: an id below -1, or one that decodes to a category outside
        ``0..num_categories-1``.
    """
    ids = np.unique(np.asarray(panoptic)).astype(np.int64)
    if ids.size and ids[0] < VOID:
        raise ValueError(f"{where}: panoptic id {int(ids[0])} < -1 (void is -1)")
    ids = ids[ids >= 0]
    categories, clusters = np.divmod(ids, label_divisor)
    bad = categories >= num_categories
    if bad.any():
        raise ValueError(
            f"{where}: panoptic ids {ids[bad][:5].tolist()} decode to categories outside "
            f"0..{num_categories - 1} (label_divisor {label_divisor})"
        )
    return ids, categories, clusters
