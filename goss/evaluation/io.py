"""Reading evaluation inputs: COCO-panoptic RGB id PNGs and their JSON, per-pixel ``.npy`` maps."""

import json
import os

import numpy as np
from PIL import Image

from ..utils.panoptic_ids import rgb2id
from .stats import segments_from_info

__all__ = [
    "annotations_by_image",
    "check_categories",
    "load_npy_map",
    "load_panoptic_json",
    "read_id_png",
    "read_panoptic_json",
]


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


def read_panoptic_json(path):
    """
    Args:
        path (str): COCO panoptic JSON.
    Returns:
        dict: the parsed file, checked to hold an ``annotations`` list (and, if present, a
        ``categories`` list).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"panoptic JSON not found: {path}")
    try:
        with open(path) as f:
            data = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise ValueError(f"{path}: no 'annotations' list (COCO panoptic format expected)")
    if "categories" in data and not isinstance(data["categories"], list):
        raise ValueError(f"{path}: 'categories' must be a list")
    return data


def annotations_by_image(data, path, num_categories=None):
    """
    Args:
        data (dict): a COCO panoptic JSON (:func:`read_panoptic_json`).
        path (str): its file, for error messages.
        num_categories (int or None): if given, every ``category_id`` must be in
            ``0..num_categories-1``.
    Returns:
        dict ``image_id -> annotation dict`` (in file order), every ``segments_info`` checked by
        :func:`~goss.evaluation.stats.segments_from_info`.
    """
    out = {}
    for k, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            raise ValueError(f"{path}: annotations[{k}] is not an object")
        for key in ("image_id", "file_name", "segments_info"):
            if key not in ann:
                raise ValueError(f"{path}: annotations[{k}] has no '{key}'")
        if not isinstance(ann["file_name"], str):
            raise ValueError(f"{path}: annotations[{k}].file_name is not a string")
        image_id = ann["image_id"]
        if not isinstance(image_id, (str, int)) or isinstance(image_id, bool):
            raise ValueError(f"{path}: annotations[{k}].image_id must be a string or an integer")
        if image_id in out:
            raise ValueError(f"{path}: image_id {image_id!r} annotated twice")
        where = f"{path}: annotations[{k}] (image_id {image_id!r})"
        segments_from_info(ann["segments_info"], num_categories, where)
        out[image_id] = ann
    return out


def load_panoptic_json(path, num_categories=None):
    """
    Args:
        path (str): COCO panoptic JSON (``annotations[].{image_id, file_name, segments_info}``).
        num_categories (int or None): see :func:`annotations_by_image`.
    Returns:
        dict ``image_id -> annotation dict`` (in file order).
    """
    return annotations_by_image(read_panoptic_json(path), path, num_categories)


def check_categories(categories, num_known, where, option="num_known"):
    """
    Check that a JSON's ``categories`` are the GOSS train ids for ``num_known`` = N: ids exactly
    ``0..N`` (known ``0..N-1``, unknown ``N``; the ``is_unknown`` flag, where given, is set on
    ``N`` alone). A mismatch means the ids of the file and of the caller disagree.

    Args:
        categories (list[dict]): the ``categories`` list.
        num_known (int): N.
        where (str): the file, for error messages.
        option (str): how the caller names N (e.g. ``"--num-known"``), for error messages.
    Raises:
        ValueError saying which N the file implies.
    """
    ids = []
    for k, cat in enumerate(categories):
        cid = cat.get("id") if isinstance(cat, dict) else None
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise ValueError(f"{where}: categories[{k}] has no integer 'id'")
        ids.append(cid)
    contiguous = sorted(ids) == list(range(len(ids)))
    if not contiguous or len(ids) != num_known + 1:
        implied = len(ids) - 1 if contiguous else None
        hint = f"; the file implies {option} {implied}" if implied else ""
        span = f"{min(ids)}..{max(ids)} ({len(ids)} ids)" if ids else "empty"
        raise ValueError(
            f"{where}: categories are {span}, but {option} {num_known} needs exactly "
            f"0..{num_known} (known 0..{num_known - 1}, unknown {num_known}){hint}"
        )
    flagged = sorted(c["id"] for c in categories if c.get("is_unknown"))
    if any("is_unknown" in c for c in categories) and flagged != [num_known]:
        raise ValueError(
            f"{where}: the unknown category must be id {num_known} ({option} {num_known}), "
            f"but is_unknown is set on {flagged}"
        )


def load_npy_map(path, shape, what, integer=False):
    """
    Read one per-pixel ``.npy`` map (never unpickling).

    Args:
        path (str): the ``.npy`` file.
        shape (tuple): the expected ``(H, W)``.
        what (str): what the map is, for error messages (e.g. ``"score map"``).
        integer (bool): require an integer dtype, else any real (integer or float) dtype.
    Returns:
        ndarray ``[H, W]``.
    Raises:
        FileNotFoundError, or ValueError naming the file and what is wrong.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:  # not a .npy, truncated, pickled object array, ...
        raise ValueError(f"{path}: cannot read {what} as a .npy array: {e}") from e
    if not isinstance(arr, np.ndarray):  # an .npz archive
        raise ValueError(f"{path}: {what} must be one .npy array, got an archive")
    kinds = "iu" if integer else "iuf"
    if arr.dtype.kind not in kinds:
        expected = "an integer" if integer else "a real (integer or float)"
        raise ValueError(f"{path}: {what} must have {expected} dtype, got {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(
            f"{path}: {what} has shape {arr.shape}, the image is [H, W] = {list(shape)}"
        )
    return arr
