"""
Registers every built-in GOSS split under ``$DETECTRON2_DATASETS`` (default ``datasets``):
``coco_stuff_goss_{voc,manual,random}_{train,val}``, ``cityscapes_goss_{16_3,13_6}_{train,val}``,
``camvid_goss_{train,val,test}`` and ``goss_shapes_{train,val}`` (generated on first use).
"""

import functools
import os

from .builtin_meta import GOSS_SPLITS, split_metadata
from .goss_loader import register_goss_split

__all__ = ["BUILTIN_NAMES", "register_all_goss"]

# registered name prefix -> goss split (its directory under the datasets root)
_PREFIXES = {
    "coco_stuff_goss_voc": "coco_stuff_goss_voc",
    "coco_stuff_goss_manual": "coco_stuff_goss_manual",
    "coco_stuff_goss_random": "coco_stuff_goss_random",
    "cityscapes_goss_16_3": "cityscapes_goss_16_3",
    "cityscapes_goss_13_6": "cityscapes_goss_13_6",
    "camvid_goss": "camvid_goss_8_3",
    "goss_shapes": "goss_shapes",
}
BUILTIN_NAMES = [f"{p}_{s}" for p, g in _PREFIXES.items() for s in GOSS_SPLITS[g]["subsets"]]


def _ensure_shapes(root):
    from goss.data.shapes import ensure_goss_shapes

    ensure_goss_shapes(root)


def register_all_goss(root):
    """Register the built-in splits with their data under ``root``."""
    for prefix, goss_split in _PREFIXES.items():
        dataset_dir = os.path.join(root, goss_split)
        meta = split_metadata(goss_split)
        command = GOSS_SPLITS[goss_split]["command"] + f" --output {root}"
        prepare = None
        if goss_split == "goss_shapes":
            prepare = functools.partial(_ensure_shapes, root)
        for subset in GOSS_SPLITS[goss_split]["subsets"]:
            register_goss_split(
                f"{prefix}_{subset}", os.path.join(dataset_dir, subset), meta, command, prepare
            )


register_all_goss(os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets")))
