"""The Cityscapes and COCO-Stuff builder scripts on fixtures in the sources' directory layouts."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from .fixtures import write_sample

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "datasets"))
import prepare_cityscapes_goss  # noqa: E402
import prepare_coco_stuff_goss  # noqa: E402


def _move(sample, image_path, label_path):
    image_path.parent.mkdir(parents=True, exist_ok=True)
    label_path.parent.mkdir(parents=True, exist_ok=True)
    Path(sample.image_path).rename(image_path)
    Path(sample.label_path).rename(label_path)


def _last_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cityscapes_script_keeps_all_images(tmp_path, capsys):
    root = tmp_path / "cityscapes"
    rng = np.random.default_rng(0)
    values = np.array([0, 7, 8, 11, 20, 21, 24, 26, 27, 28, 33])
    for subset, cities in (("train", ("aachen", "bonn")), ("val", ("lindau",))):
        for city in cities:
            for k in range(2):
                stem = f"{city}_{k:06d}_000019"
                s = write_sample(tmp_path / "tmp", stem, values[rng.integers(0, 11, (8, 16))])
                _move(
                    s,
                    root / "leftImg8bit" / subset / city / f"{stem}_leftImg8bit.png",
                    root / "gtFine" / subset / city / f"{stem}_gtFine_labelIds.png",
                )
    out = tmp_path / "out"
    prepare_cityscapes_goss.main(
        ["--cityscapes-root", str(root), "--output", str(out), "--workers", "1", "--no-progress"]
    )
    summary = _last_json(capsys)
    for key in ("16_3", "13_6"):
        assert summary[f"cityscapes_goss_{key}"]["train"]["kept"] == 4
        assert summary[f"cityscapes_goss_{key}"]["val"]["kept"] == 2
    m16 = json.loads((out / "cityscapes_goss_16_3" / "train" / "manifest.json").read_text())
    m13 = json.loads((out / "cityscapes_goss_13_6" / "train" / "manifest.json").read_text())
    assert len(m16["known_classes"]) == 16 and len(m13["known_classes"]) == 13
    assert [u["name"] for u in m13["unknown_classes"]][3:] == [
        "building",
        "traffic sign",
        "vegetation",
    ]
    assert m13["unknown_segments"] > m16["unknown_segments"] > 0


def test_cityscapes_missing_label_is_an_error(tmp_path):
    img = tmp_path / "leftImg8bit" / "val" / "x" / "x_0_1_leftImg8bit.png"
    img.parent.mkdir(parents=True)
    img.write_bytes(b"")
    (tmp_path / "gtFine" / "val" / "x").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="x_0_1_gtFine_labelIds.png"):
        prepare_cityscapes_goss.cityscapes_samples(str(tmp_path), "val")


def test_coco_stuff_script_selection(tmp_path, capsys):
    root = tmp_path / "coco"
    # (coco ids present) per image; stuffthingmaps hold coco_id - 1
    images = {
        "train2017": {"t0": [1, 157], "t1": [1, 8], "t2": [44, 96, 124], "t3": [0]},
        "val2017": {"v0": [1, 157], "v1": [3, 8], "v2": [182]},
    }
    for folder, contents in images.items():
        for stem, ids in contents.items():
            label = np.full((6, 6), 255, np.uint8)
            for k, cid in enumerate(ids):
                if cid:
                    label[k, :] = cid - 1
            s = write_sample(tmp_path / "tmp", stem, label, ".jpg")
            _move(
                s,
                root / folder / f"{stem}.jpg",
                root / "stuffthingmaps_trainval2017" / folder / f"{stem}.png",
            )
    out = tmp_path / "out"
    prepare_coco_stuff_goss.main(
        ["--coco-root", str(root), "--output", str(out), "--workers", "2", "--no-progress"]
    )
    summary = _last_json(capsys)
    # truck (8) is unknown in voc and random; bottle (44), grass (124), wood (182) only in random
    expected = {"voc": (3, 1), "manual": (4, 0), "random": (2, 2)}
    for key, (train, val) in expected.items():
        got = summary[f"coco_stuff_goss_{key}"]
        assert (got["train"]["kept"], got["val"]["kept"]) == (train, val), key
        assert got["val"]["paper"] == prepare_coco_stuff_goss.PAPER_COUNTS[key][1]
    m = json.loads((out / "coco_stuff_goss_random" / "val" / "manifest.json").read_text())
    assert m["dropped_images"] == ["v0"]
    assert len(m["known_classes"]) == 111 and len(m["unknown_classes"]) == 60
