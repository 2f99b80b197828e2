"""
Every class table of the GOSS benchmarks, in one place: COCO-Stuff (171 classes), the three
COCO-Stuff-GOSS splits, Cityscapes (19 train classes), CamVid (11 classes) and goss_shapes.

Source ids are the values found in each source's label PNGs: COCO-Stuff ``stuffthingmaps``
hold ``coco_id - 1``; Cityscapes ``*_labelIds.png`` hold label ids; CamVid (SegNet layout)
holds 0..10 (11 = void). Train ids (known ``0..N-1``, unknown ``N``, ignore 255) are the known
classes in the order listed here.
"""

from goss.data.goss_format import IGNORE_LABEL, SplitSpec
from goss.utils.panoptic_ids import LABEL_DIVISOR

__all__ = ["GOSS_SPLITS", "split_spec", "split_metadata", "UNKNOWN_COLOR"]

UNKNOWN_COLOR = (255, 255, 0)

# fmt: off
COCO_THINGS = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train",
    8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign",
    14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog", 19: "horse", 20: "sheep",
    21: "cow", 22: "elephant", 23: "bear", 24: "zebra", 25: "giraffe", 27: "backpack",
    28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase", 34: "frisbee", 35: "skis",
    36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat", 40: "baseball glove",
    41: "skateboard", 42: "surfboard", 43: "tennis racket", 44: "bottle", 46: "wine glass",
    47: "cup", 48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana", 53: "apple",
    54: "sandwich", 55: "orange", 56: "broccoli", 57: "carrot", 58: "hot dog", 59: "pizza",
    60: "donut", 61: "cake", 62: "chair", 63: "couch", 64: "potted plant", 65: "bed",
    67: "dining table", 70: "toilet", 72: "tv", 73: "laptop", 74: "mouse", 75: "remote",
    76: "keyboard", 77: "cell phone", 78: "microwave", 79: "oven", 80: "toaster", 81: "sink",
    82: "refrigerator", 84: "book", 85: "clock", 86: "vase", 87: "scissors", 88: "teddy bear",
    89: "hair drier", 90: "toothbrush",
}
COCO_STUFF_NAMES = (
    "banner blanket branch bridge building-other bush cabinet cage cardboard carpet "
    "ceiling-other ceiling-tile cloth clothes clouds counter cupboard curtain desk-stuff dirt "
    "door-stuff fence floor-marble floor-other floor-stone floor-tile floor-wood flower fog "
    "food-other fruit furniture-other grass gravel ground-other hill house leaves light mat "
    "metal mirror-stuff moss mountain mud napkin net paper pavement pillow plant-other plastic "
    "platform playingfield railing railroad river road rock roof rug salad sand sea shelf "
    "sky-other skyscraper snow solid-other stairs stone straw structural-other table tent "
    "textile-other towel tree vegetable wall-brick wall-concrete wall-other wall-panel "
    "wall-stone wall-tile wall-wood water-other waterdrops window-blind window-other wood"
).split()
# COCO-Stuff id -> name, 171 classes (things 1-90 with gaps, stuff 92-182)
COCO_STUFF_CLASSES = {**COCO_THINGS, **{92 + i: n for i, n in enumerate(COCO_STUFF_NAMES)}}

# known COCO ids of the COCO-Stuff-GOSS splits (the paper's Table 2 counts); unknown = the rest
_ALL_STUFF = list(range(92, 183))
COCO_STUFF_GOSS_KNOWN = {
    "voc": [1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19, 20, 21, 44, 62, 63, 64, 67, 72] + _ALL_STUFF,
    "manual": [1, 3, 8, 10, 15, 17, 18, 27, 31, 37, 44, 47, 59, 62, 67, 72, 77, 81, 84, 85]
    + _ALL_STUFF,
    "random": [
        1, 2, 3, 4, 5, 7, 10, 13, 14, 15, 16, 19, 20, 22, 23, 24, 27, 32, 33, 35, 37, 39, 40,
        42, 43, 47, 49, 50, 52, 54, 55, 56, 57, 58, 60, 61, 62, 64, 65, 67, 72, 75, 76, 81, 84,
        85, 86, 87, 88, 89, 90,
        92, 94, 95, 96, 97, 98, 101, 102, 105, 107, 109, 111, 112, 113, 114, 115, 116, 117, 121,
        122, 123, 125, 127, 130, 131, 132, 133, 137, 138, 140, 142, 143, 144, 145, 146, 147, 151,
        152, 153, 154, 155, 156, 157, 158, 161, 162, 163, 164, 165, 167, 169, 170, 171, 172, 173,
        174, 175, 176, 177, 178,
    ],
}

# Cityscapes 19 train classes: (label id, name, colour), in train-id order
CITYSCAPES_CLASSES = (
    (7, "road", (128, 64, 128)), (8, "sidewalk", (244, 35, 232)), (11, "building", (70, 70, 70)),
    (12, "wall", (102, 102, 156)), (13, "fence", (190, 153, 153)), (17, "pole", (153, 153, 153)),
    (19, "traffic light", (250, 170, 30)), (20, "traffic sign", (220, 220, 0)),
    (21, "vegetation", (107, 142, 35)), (22, "terrain", (152, 251, 152)),
    (23, "sky", (70, 130, 180)), (24, "person", (220, 20, 60)), (25, "rider", (255, 0, 0)),
    (26, "car", (0, 0, 142)), (27, "truck", (0, 0, 70)), (28, "bus", (0, 60, 100)),
    (31, "train", (0, 80, 100)), (32, "motorcycle", (0, 0, 230)), (33, "bicycle", (119, 11, 32)),
)
CITYSCAPES_GOSS_UNKNOWN = {
    "16_3": ("car", "truck", "bus"),
    "13_6": ("car", "truck", "bus", "building", "traffic sign", "vegetation"),
}

# CamVid (SegNet layout): value -> (name, colour); 11 = void
CAMVID_CLASSES = (
    ("Sky", (128, 128, 128)), ("Building", (128, 0, 0)), ("Pole", (192, 192, 128)),
    ("Road", (128, 64, 128)), ("Pavement", (60, 40, 222)), ("Tree", (128, 128, 0)),
    ("SignSymbol", (192, 128, 128)), ("Fence", (64, 64, 128)), ("Car", (64, 0, 128)),
    ("Pedestrian", (64, 64, 0)), ("Bicyclist", (0, 128, 192)),
)
CAMVID_VOID = 11
CAMVID_GOSS_UNKNOWN = ("Car", "Pedestrian", "Bicyclist")

# goss_shapes: source id -> (name, colour); stuff 0-2, known objects 3-5, unknown objects 6-8
SHAPES_CLASSES = (
    ("grass", (60, 150, 50)), ("sand", (215, 190, 120)), ("water", (40, 90, 200)),
    ("circle", (220, 30, 30)), ("square", (245, 245, 245)), ("triangle", (20, 20, 20)),
    ("star", (255, 140, 0)), ("cross", (200, 0, 200)), ("ring", (0, 220, 220)),
)
SHAPES_NUM_STUFF, SHAPES_NUM_KNOWN = 3, 6
# fmt: on


def _coco_color(coco_id):
    """A fixed, well-spread colour per COCO-Stuff id."""
    return tuple(int((coco_id * k) % 256) for k in (53, 97, 193))


def _coco_split(key):
    known = COCO_STUFF_GOSS_KNOWN[key]
    unknown = [i for i in sorted(COCO_STUFF_CLASSES) if i not in known]
    return {
        "dataset": "coco_stuff",
        "subsets": {"train": "no_unknown", "val": "has_unknown"},
        # stuffthingmaps store coco_id - 1
        "known": [(i - 1, COCO_STUFF_CLASSES[i], _coco_color(i)) for i in known],
        "unknown": [(i - 1, COCO_STUFF_CLASSES[i]) for i in unknown],
        "void": [IGNORE_LABEL],
        "command": f"python datasets/prepare_coco_stuff_goss.py --coco-root <COCO> --splits {key}",
    }


def _cityscapes_split(key):
    unknown = CITYSCAPES_GOSS_UNKNOWN[key]
    labelled = {c[0] for c in CITYSCAPES_CLASSES}
    return {
        "dataset": "cityscapes",
        "subsets": {"train": "all", "val": "all"},
        "known": [c for c in CITYSCAPES_CLASSES if c[1] not in unknown],
        "unknown": [(c[0], c[1]) for n in unknown for c in CITYSCAPES_CLASSES if c[1] == n],
        "void": [i for i in range(34) if i not in labelled] + [IGNORE_LABEL],
        "command": "python datasets/prepare_cityscapes_goss.py --cityscapes-root <Cityscapes> "
        f"--splits {key}",
    }


def _camvid_split():
    return {
        "dataset": "camvid",
        "subsets": {"train": "all", "val": "all", "test": "all"},
        "known": [
            (v, n, c) for v, (n, c) in enumerate(CAMVID_CLASSES) if n not in CAMVID_GOSS_UNKNOWN
        ],
        "unknown": [(v, n) for v, (n, _) in enumerate(CAMVID_CLASSES) if n in CAMVID_GOSS_UNKNOWN],
        "void": [CAMVID_VOID],
        "command": "python datasets/prepare_camvid_goss.py --camvid-root <CamVid>",
    }


def _shapes_split():
    n = SHAPES_NUM_KNOWN
    return {
        "dataset": "goss_shapes",
        "subsets": {"train": "no_unknown", "val": "has_unknown"},
        "known": [(i, name, c) for i, (name, c) in enumerate(SHAPES_CLASSES[:n])],
        "unknown": [(n + i, name) for i, (name, _) in enumerate(SHAPES_CLASSES[n:])],
        "void": [IGNORE_LABEL],
        "command": "python datasets/prepare_goss_shapes.py",
    }


# goss split -> class table, subsets with their image-selection rule, builder command
GOSS_SPLITS = {
    **{f"coco_stuff_goss_{k}": _coco_split(k) for k in ("voc", "manual", "random")},
    **{f"cityscapes_goss_{k}": _cityscapes_split(k) for k in ("16_3", "13_6")},
    "camvid_goss_8_3": _camvid_split(),
    "goss_shapes": _shapes_split(),
}


def split_spec(goss_split, subset, min_unknown_area=0):
    """The :class:`SplitSpec` of ``goss_split`` (a key of ``GOSS_SPLITS``) for ``subset``."""
    if goss_split not in GOSS_SPLITS:
        raise KeyError(f"unknown GOSS split {goss_split!r}; known: {sorted(GOSS_SPLITS)}")
    table = GOSS_SPLITS[goss_split]
    if subset not in table["subsets"]:
        raise KeyError(f"{goss_split} has no subset {subset!r}; it has {list(table['subsets'])}")
    return SplitSpec(
        name=f"{goss_split}_{subset}",
        known_ids=[k[0] for k in table["known"]],
        known_names=[k[1] for k in table["known"]],
        unknown_ids=[u[0] for u in table["unknown"]],
        unknown_names=[u[1] for u in table["unknown"]],
        void_ids=table["void"],
        selection=table["subsets"][subset],
        min_unknown_area=min_unknown_area,
    )


def split_metadata(goss_split):
    """Metadata shared by the subsets of ``goss_split`` (paths are added at registration)."""
    table = GOSS_SPLITS[goss_split]
    return {
        "stuff_classes": [k[1] for k in table["known"]] + ["unknown"],
        "stuff_colors": [list(k[2]) for k in table["known"]] + [list(UNKNOWN_COLOR)],
        "ignore_label": IGNORE_LABEL,
        "label_divisor": LABEL_DIVISOR,
        "evaluator_type": "goss",
        "num_known_classes": len(table["known"]),
        "known_source_ids": [k[0] for k in table["known"]],
        "unknown_source_ids": [u[0] for u in table["unknown"]],
        "unknown_source_names": [u[1] for u in table["unknown"]],
        "goss_split": goss_split,
        "builder_command": table["command"],
    }
