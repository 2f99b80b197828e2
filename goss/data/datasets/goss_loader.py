"""Loading a GOSS split (COCO-panoptic-style JSON + PNGs) into Detectron2 dataset dicts."""

import json
import logging
import os

from detectron2.data import DatasetCatalog, MetadataCatalog

__all__ = ["load_goss_json", "register_goss_split"]

logger = logging.getLogger(__name__)


def load_goss_json(json_file, image_root, panoptic_root, sem_seg_root=None, category_map=None):
    """
    Read a COCO-panoptic-format JSON (``images``, ``annotations`` with ``segments_info``) into
    Detectron2 dataset dicts.

    Args:
        json_file (str): the JSON.
        image_root (str): directory of the images (``images[].file_name``).
        panoptic_root (str): directory of the panoptic PNGs (``annotations[].file_name``).
        sem_seg_root (str, optional): directory of the train-id semantic PNGs (named as the
            image, with ``.png``); None: no ``sem_seg_file_name``.
        category_map (dict, optional): JSON ``category_id`` -> train id (default: identity).
    Returns:
        list[dict]: ``file_name``, ``image_id``, ``height``, ``width``, ``pan_seg_file_name``,
        ``segments_info`` (``id``, ``category_id``, ``area``, ``iscrowd``) and, with
        ``sem_seg_root``, ``sem_seg_file_name``.
    """
    try:
        with open(json_file) as f:
            data = json.load(f)
    except ValueError as e:
        raise ValueError(f"{json_file}: not valid JSON: {e}") from e
    for key in ("images", "annotations"):
        if key not in data:
            raise ValueError(f"{json_file}: no {key!r} list")
    images = {img["id"]: img for img in data["images"]}
    dicts = []
    for ann in data["annotations"]:
        if ann["image_id"] not in images:
            raise ValueError(f"{json_file}: annotation for unknown image id {ann['image_id']}")
        img = images[ann["image_id"]]
        segments = []
        for s in ann["segments_info"]:
            cat = s["category_id"]
            if category_map is not None:
                if cat not in category_map:
                    raise ValueError(f"{json_file}: category_id {cat} not in the category map")
                cat = category_map[cat]
            segments.append(
                {"id": s["id"], "category_id": cat, "area": s["area"], "iscrowd": s["iscrowd"]}
            )
        record = {
            "file_name": os.path.join(image_root, img["file_name"]),
            "image_id": img["id"],
            "pan_seg_file_name": os.path.join(panoptic_root, ann["file_name"]),
            "segments_info": segments,
        }
        if "height" in img and "width" in img:
            record["height"], record["width"] = img["height"], img["width"]
        if sem_seg_root is not None:
            stem = os.path.splitext(img["file_name"])[0]
            record["sem_seg_file_name"] = os.path.join(sem_seg_root, stem + ".png")
        dicts.append(record)
    logger.info("Loaded %d images from %s", len(dicts), json_file)
    return dicts


def _load_checked(name, split_dir, command, prepare=None):
    if prepare is not None:
        prepare()
    json_file = os.path.join(split_dir, "panoptic.json")
    if not os.path.isfile(json_file):
        raise FileNotFoundError(
            f"GOSS dataset {name!r}: {json_file} not found. Build it with `{command}` "
            f"(datasets root: $DETECTRON2_DATASETS, default 'datasets')."
        )
    return load_goss_json(
        json_file,
        os.path.join(split_dir, "images"),
        os.path.join(split_dir, "panoptic"),
        os.path.join(split_dir, "sem_seg"),
    )


def register_goss_split(name, split_dir, metadata, command, prepare=None):
    """
    Register one GOSS split built by :func:`goss.data.builder.build_split`. Nothing is read
    from disk here; loading fails with ``command`` in the message if the split is missing.

    Args:
        name (str): dataset name, e.g. ``"camvid_goss_val"``.
        split_dir (str): the split's directory (holds ``panoptic.json``).
        metadata (dict): class metadata (see ``builtin_meta.split_metadata``).
        command (str): the builder command that creates the split.
        prepare (callable, optional): called before loading (e.g. generates a synthetic split).
    """
    DatasetCatalog.register(name, lambda: _load_checked(name, split_dir, command, prepare))
    MetadataCatalog.get(name).set(
        image_root=os.path.join(split_dir, "images"),
        sem_seg_root=os.path.join(split_dir, "sem_seg"),
        panoptic_root=os.path.join(split_dir, "panoptic"),
        panoptic_json=os.path.join(split_dir, "panoptic.json"),
        **metadata,
    )
