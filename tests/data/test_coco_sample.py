"""The two COCO panoptic sample images (../shared/data/coco_panoptic_sample) through the COCO-format
loader, and, as COCO-Stuff-style label maps, through the COCO-Stuff-GOSS split rules."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from goss.data.builder import Sample, build_split
from goss.data.datasets import load_goss_json, split_spec
from goss.data.datasets.builtin_meta import COCO_THINGS
from goss.utils.panoptic_ids import rgb2id

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "coco_panoptic_sample"
DATA = SAMPLE / "sample_data"
pytestmark = pytest.mark.skipif(
    not (DATA / "panoptic_examples.json").is_file(), reason=f"COCO sample not found at {SAMPLE}"
)


def _load():
    cats = json.loads((SAMPLE / "panoptic_coco_categories.json").read_text())
    cmap = {c["id"]: c["id"] for c in cats}  # keep COCO ids
    return load_goss_json(
        str(DATA / "panoptic_examples.json"),
        str(DATA / "input_images"),
        str(DATA / "panoptic_examples"),
        category_map=cmap,
    )


def test_loader_reads_coco_panoptic_sample():
    dicts = _load()
    assert [d["image_id"] for d in dicts] == [142238, 439180]
    for d in dicts:
        with Image.open(d["file_name"]) as im:
            assert (im.height, im.width) == (d["height"], d["width"])
        pan = rgb2id(np.array(Image.open(d["pan_seg_file_name"]).convert("RGB")))
        assert pan.shape == (d["height"], d["width"])
        ids = set(np.unique(pan).tolist()) - {0}
        assert ids == {s["id"] for s in d["segments_info"]}
        for s in d["segments_info"]:
            assert (pan == s["id"]).sum() == s["area"]


def test_coco_thing_names_match_the_sample_categories():
    cats = json.loads((SAMPLE / "panoptic_coco_categories.json").read_text())
    things = {c["id"]: c["name"] for c in cats if c["isthing"]}
    assert things == COCO_THINGS


def _stuff_style_label(d):
    """COCO-Stuff-style map (coco_id - 1) from the panoptic PNG: things kept, the rest 255."""
    pan = rgb2id(np.array(Image.open(d["pan_seg_file_name"]).convert("RGB")))
    label = np.full(pan.shape, 255, np.uint8)
    for s in d["segments_info"]:
        if s["category_id"] in COCO_THINGS:
            label[pan == s["id"]] = s["category_id"] - 1
    return label


@pytest.mark.parametrize(
    "key,kept", [("voc", [142238, 439180]), ("manual", [439180]), ("random", [439180])]
)
def test_sample_through_coco_stuff_goss_rules(tmp_path, key, kept):
    samples = []
    for d in _load():
        path = tmp_path / "labels" / f"{d['image_id']}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(_stuff_style_label(d)).save(path)
        samples.append(Sample(str(d["image_id"]), d["file_name"], str(path)))
    spec = split_spec(f"coco_stuff_goss_{key}", "val")
    m = build_split(samples, spec, tmp_path / "out", progress=False)
    assert [int(s.image_id) for s in samples if s.image_id not in m["dropped_images"]] == kept
    train = build_split(
        samples, split_spec(f"coco_stuff_goss_{key}", "train"), tmp_path / "tr", progress=False
    )
    assert train["num_kept"] == 2 - len(kept)
    if key == "voc":  # sports ball (37) and truck (8) are unknown in VOC
        by_name = {u["name"]: u for u in m["unknown_classes"]}
        assert by_name["sports ball"]["pixels"] == 175
        assert by_name["truck"]["pixels"] == 1680 + 5791
        assert by_name["truck"]["segments"] >= 1
