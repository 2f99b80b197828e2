"""The Cityscapes and COCO-Stuff builder scripts on fixtures in the sources' directory layouts."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .fixtures import write_sample

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
sys.path.insert(0, str(DATASETS))
import prepare_camvid_goss  # noqa: E402
import prepare_cityscapes_goss  # noqa: E402
import prepare_coco_stuff_goss  # noqa: E402
import prepare_goss_shapes  # noqa: E402


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


def _camvid_root(tmp_path, label=None, image_size=None):
    """A one-image CamVid (SegNet layout, train only) under ``tmp_path / "camvid"``."""
    label = np.zeros((6, 8), np.uint8) if label is None else label
    root = tmp_path / "camvid"
    s = write_sample(tmp_path / "tmp", "0001TP_000", label, image_size=image_size)
    _move(s, root / "train" / "0001TP_000.png", root / "trainannot" / "0001TP_000.png")
    return root


def _camvid_case(tmp_path, case):
    """(script, argv, expected message) of one bad input."""
    label = np.zeros((6, 8), np.uint8)
    if case == "missing_root":
        root = tmp_path / "absent"
        return prepare_camvid_goss, ["--camvid-root", str(root)], f"{root} is not a directory"
    if case == "value_outside_table":
        label[2, 3] = 12
    root = _camvid_root(tmp_path, label, (6, 9) if case == "size_mismatch" else None)
    image, annot = root / "train" / "0001TP_000.png", root / "trainannot" / "0001TP_000.png"
    if case == "unreadable_image":
        image.write_bytes(b"not a png")
    argv = ["--camvid-root", str(root), "--splits", "train"]
    message = {
        "value_outside_table": f"{annot}: label values [12] are not in the class table",
        "size_mismatch": f"{annot}: label size (8, 6) (w, h) does not match image size (9, 6)",
        "unreadable_image": f"{image}: cannot read image",
    }[case]
    return prepare_camvid_goss, argv, message


def _other_case(tmp_path, case):
    if case == "cityscapes_missing_root":
        root = tmp_path / "absent"
        return prepare_cityscapes_goss, ["--cityscapes-root", str(root)], f"{root} is not a dir"
    if case == "cityscapes_missing_split":
        (tmp_path / "leftImg8bit" / "train").mkdir(parents=True)
        argv = ["--cityscapes-root", str(tmp_path), "--subsets", "train"]
        return prepare_cityscapes_goss, argv, f"{tmp_path / 'gtFine' / 'train'} is not a dir"
    if case == "coco_missing_stuffthingmaps":
        (tmp_path / "val2017").mkdir()
        argv = ["--coco-root", str(tmp_path), "--subsets", "val"]
        maps = tmp_path / "stuffthingmaps_trainval2017"
        return prepare_coco_stuff_goss, argv, f"--stuffthingmaps: {maps} is not a directory"
    return prepare_goss_shapes, ["--num-train", "0"], "goss_shapes needs num_train >= 1"


@pytest.mark.parametrize(
    "case",
    [
        "missing_root",
        "value_outside_table",
        "size_mismatch",
        "unreadable_image",
        "cityscapes_missing_root",
        "cityscapes_missing_split",
        "coco_missing_stuffthingmaps",
        "shapes_bad_count",
    ],
)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_user_errors_are_one_line_with_exit_code_2(tmp_path, caplog, case, workers):
    make = _other_case if case.split("_")[0] in ("cityscapes", "coco", "shapes") else _camvid_case
    script, argv, message = make(tmp_path, case)
    argv += ["--output", str(tmp_path / "out"), "--workers", workers, "--no-progress"]
    with caplog.at_level(logging.INFO):
        assert script.main(argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and message in errors[0], caplog.text
    assert "Traceback" not in caplog.text


def test_script_error_without_traceback_in_a_subprocess(tmp_path):
    label = np.zeros((6, 8), np.uint8)
    label[0, 0] = 200
    root = _camvid_root(tmp_path, label)
    cmd = [sys.executable, str(DATASETS / "prepare_camvid_goss.py"), "--camvid-root", str(root)]
    cmd += ["--splits", "train", "--output", str(tmp_path / "out"), "--workers", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "label values [200]" in r.stderr, r.stderr


@pytest.mark.parametrize("option,value", [("--workers", "0"), ("--min-unknown-area", "-1")])
def test_bad_option_values_are_argparse_errors(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as e:
        prepare_camvid_goss.main(["--camvid-root", str(tmp_path), option, value])
    assert e.value.code == 2 and f"argument {option}: must be >= " in capsys.readouterr().err
