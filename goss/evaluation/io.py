"""Reading COCO-panoptic-format annotations: RGB id PNGs and their JSON."""

import json
import os

import numpy as np
from PIL import Image

__all__ = ["rgb2id", "read_id_png", "load_panoptic_json"]


def rgb2id(rgb):
    """``[H, W, 3]`` uint8 -> int64 ``[H, W]`` ids (id = R + 256 G + 256^2 B)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"expected an [H, W, 3] RGB array, got shape {rgb.shape}")
    rgb = rgb[..., :3].astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def read_id_png(path):
    """Read a COCO panoptic PNG as int64 ``[H, W]`` ids; errors name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"panoptic PNG not found: {path}")
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))
    except Exception as e:  # PIL raises several types for corrupt files
        raise ValueError(f"cannot read panoptic PNG {path}: {e}") from e
    return rgb2id(arr)


def load_panoptic_json(path):
    """
    Args:
        path (str): COCO panoptic JSON (``annotations[].{image_id, file_name, segments_info}``).
    Returns:
        dict ``image_id -> annotation dict`` (in file order).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"panoptic JSON not found: {path}")
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or "annotations" not in data:
        raise ValueError(f"{path}: no 'annotations' list (COCO panoptic format expected)")
    out = {}
    for k, ann in enumerate(data["annotations"]):
        for key in ("image_id", "file_name", "segments_info"):
            if key not in ann:
                raise ValueError(f"{path}: annotations[{k}] has no '{key}'")
        if ann["image_id"] in out:
            raise ValueError(f"{path}: image_id {ann['image_id']!r} annotated twice")
        out[ann["image_id"]] = ann
    return out
