"""Class tables (paper Table 2) and the registered splits' metadata."""

from detectron2.data import DatasetCatalog, MetadataCatalog
from goss.data.datasets import GOSS_SPLITS, split_spec
from goss.data.datasets.builtin_meta import COCO_STUFF_CLASSES, COCO_THINGS
from goss.data.datasets.register_goss_builtin import BUILTIN_NAMES


def _things_stuff(ids):
    coco = [i + 1 for i in ids]  # source values are coco_id - 1
    return sum(c in COCO_THINGS for c in coco), sum(c not in COCO_THINGS for c in coco)


def test_coco_stuff_tables():
    assert len(COCO_STUFF_CLASSES) == 171 and len(COCO_THINGS) == 80
    assert COCO_STUFF_CLASSES[92] == "banner" and COCO_STUFF_CLASSES[182] == "wood"
    assert COCO_STUFF_CLASSES[172] == "wall-concrete"
    table2 = {"voc": (20, 91, 60, 0), "manual": (20, 91, 60, 0), "random": (51, 60, 29, 31)}
    for key, counts in table2.items():
        spec = split_spec(f"coco_stuff_goss_{key}", "val")
        assert _things_stuff(spec.known_ids) + _things_stuff(spec.unknown_ids) == counts, key
        assert list(spec.known_ids) == sorted(spec.known_ids)  # ascending COCO-id order
        assert spec.selection == "has_unknown"
        assert split_spec(f"coco_stuff_goss_{key}", "train").selection == "no_unknown"
    manual = split_spec("coco_stuff_goss_manual", "train")
    assert manual.known_names[:3] == ("person", "car", "truck")
    random = split_spec("coco_stuff_goss_random", "train")
    assert {"grass", "road", "cat", "dog"} <= set(random.unknown_names)
    assert random.known_names[51] == "banner" and random.known_names[-1] == "water-other"


def test_other_tables():
    assert split_spec("cityscapes_goss_16_3", "train").num_known == 16
    s13 = split_spec("cityscapes_goss_13_6", "val")
    assert s13.num_known == 13 and s13.selection == "all"
    assert set(s13.known_names) & {"person", "rider", "train", "motorcycle", "bicycle"} == {
        "person",
        "rider",
        "train",
        "motorcycle",
        "bicycle",
    }
    assert 0 in s13.void_ids and 255 in s13.void_ids and 26 in s13.unknown_ids
    cam = split_spec("camvid_goss_8_3", "test")
    assert cam.known_names[-1] == "Fence" and cam.unknown_ids == (8, 9, 10)
    assert cam.void_ids == (11,)


def test_registered_names_and_metadata():
    expected = (
        [f"coco_stuff_goss_{k}_{s}" for k in ("voc", "manual", "random") for s in ("train", "val")]
        + [f"cityscapes_goss_{k}_{s}" for k in ("16_3", "13_6") for s in ("train", "val")]
        + [f"camvid_goss_{s}" for s in ("train", "val", "test")]
        + ["goss_shapes_train", "goss_shapes_val"]
    )
    assert sorted(BUILTIN_NAMES) == sorted(expected)
    registered = set(DatasetCatalog.list())
    for name in expected:
        assert name in registered
        m = MetadataCatalog.get(name)
        n = m.num_known_classes
        assert len(m.stuff_classes) == len(m.stuff_colors) == n + 1
        assert m.stuff_classes[-1] == "unknown" and m.ignore_label == 255
        assert m.label_divisor == 1000 and m.evaluator_type == "goss"
        assert m.goss_split in GOSS_SPLITS and m.panoptic_json.endswith("panoptic.json")
        assert len(m.known_source_ids) == n and m.unknown_source_ids
        for key in ("image_root", "sem_seg_root", "panoptic_root"):
            assert getattr(m, key).startswith(m.panoptic_json.rsplit("/", 1)[0])
