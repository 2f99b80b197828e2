"""goss_shapes: determinism, unknown classes only in val, registration and loading."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from goss.data.datasets.builtin_meta import SHAPES_NUM_KNOWN
from goss.data.goss_format import UNKNOWN_LABEL
from goss.data.shapes import build_goss_shapes
from goss.utils.panoptic_ids import rgb2id


def _build(root, seed=0):
    return build_goss_shapes(str(root), num_train=12, num_val=6, image_size=64, seed=seed)


def _dir(root):
    return root / "goss_shapes"


def _bytes(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".png"):
                p = os.path.join(dirpath, f)
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, root)] = fh.read()
    return out


def test_same_seed_same_bytes(tmp_path):
    _build(tmp_path / "a")
    _build(tmp_path / "b")
    _build(tmp_path / "c", seed=1)
    a, b, c = (_bytes(tmp_path / k) for k in "abc")
    assert len(a) == 2 * 3 * 12 + 2 * 6 + 6  # source image+label, image, sem, panoptic
    assert a == b
    assert a != c
    for split in ("train", "val"):
        ja = json.loads((_dir(tmp_path / "a") / split / "panoptic.json").read_text())
        jb = json.loads((_dir(tmp_path / "b") / split / "panoptic.json").read_text())
        assert ja == jb


def test_unknown_only_in_val_and_void_clutter_only_in_train(tmp_path):
    manifests = _build(tmp_path)
    train, val = manifests["train"], manifests["val"]
    assert train["num_kept"] == 12 and val["num_kept"] == 6
    assert all(u["pixels"] == 0 for u in train["unknown_classes"])
    assert sum(u["pixels"] for u in val["unknown_classes"]) > 0
    assert train["void_pixels"] > 0 and val["void_pixels"] == 0
    root = _dir(tmp_path)
    data = json.loads((root / "val" / "panoptic.json").read_text())
    for ann in data["annotations"]:
        cats = [s["category_id"] for s in ann["segments_info"]]
        assert SHAPES_NUM_KNOWN in cats  # every val image has an unknown segment
        pan = rgb2id(np.array(Image.open(root / "val" / "panoptic" / ann["file_name"])))
        sem = np.array(Image.open(root / "val" / "sem_seg" / ann["file_name"]))
        for s in ann["segments_info"]:
            assert (pan == s["id"]).sum() == s["area"]
            if s["category_id"] == SHAPES_NUM_KNOWN:
                assert (sem[pan == s["id"]] == UNKNOWN_LABEL).all()
            else:
                assert (sem[pan == s["id"]] == s["category_id"]).all()
    tdata = json.loads((root / "train" / "panoptic.json").read_text())
    for ann in tdata["annotations"]:
        assert all(s["category_id"] < SHAPES_NUM_KNOWN for s in ann["segments_info"])


_LOAD = textwrap.dedent("""
    import json, sys
    import goss
    from detectron2.data import DatasetCatalog, MetadataCatalog
    d = DatasetCatalog.get("goss_shapes_val")
    m = MetadataCatalog.get("goss_shapes_val")
    print(json.dumps({"n": len(d), "first": d[0], "classes": m.stuff_classes,
                      "nk": m.num_known_classes, "ev": m.evaluator_type}))
    """)


def test_registered_goss_shapes_generate_and_load(tmp_path):
    env = dict(os.environ, DETECTRON2_DATASETS=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", _LOAD], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["n"] == 50
    assert res["classes"][-1] == "unknown" and res["nk"] == SHAPES_NUM_KNOWN
    assert res["ev"] == "goss"
    first = res["first"]
    for key in ("file_name", "sem_seg_file_name", "pan_seg_file_name"):
        assert os.path.isfile(first[key]), key
    assert (first["height"], first["width"]) == (128, 128)
    assert first["segments_info"] and not list(tmp_path.glob(".goss_shapes-tmp-*"))


def test_missing_split_fails_when_loaded_naming_the_builder(tmp_path):
    from detectron2.data import DatasetCatalog
    from goss.data.datasets import register_goss_split, split_metadata

    name = f"_test_missing_{os.getpid()}"
    cmd = "python datasets/prepare_camvid_goss.py --camvid-root X"
    register_goss_split(name, str(tmp_path / "absent"), split_metadata("camvid_goss_8_3"), cmd)
    try:
        with pytest.raises(FileNotFoundError, match="prepare_camvid_goss.py"):
            DatasetCatalog.get(name)
    finally:
        DatasetCatalog.remove(name)


def test_prepare_script(tmp_path, capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "datasets"))
    import prepare_goss_shapes

    argv = ["--output", str(tmp_path), "--num-train", "3", "--num-val", "2", "--no-progress"]
    prepare_goss_shapes.main(argv + ["--image-size", "48", "--workers", "1"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {
        "goss_shapes": {"train": {"kept": 3, "dropped": 0}, "val": {"kept": 2, "dropped": 0}}
    }
    with Image.open(tmp_path / "goss_shapes" / "val" / "images" / "val_00001.png") as im:
        assert im.size == (48, 48)
