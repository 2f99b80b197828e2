"""tools/evaluate_goss.py on CamVid-GOSS val built from the real CamVid data (../shared)."""

import importlib.util
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"
needs_camvid = pytest.mark.skipif(
    not (CAMVID / "valannot").is_dir(), reason=f"CamVid not found at {CAMVID}"
)


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@needs_camvid
def test_camvid_val_gt_against_itself_and_empty(tmp_path, capsys, caplog):
    sys.path.insert(0, str(REPO / "datasets"))
    prep = _module(REPO / "datasets" / "prepare_camvid_goss.py", "prepare_camvid_goss")
    prep.main(
        [
            "--camvid-root",
            str(CAMVID),
            "--output",
            str(tmp_path),
            "--splits",
            "val",
            "--workers",
            "2",
            "--no-progress",
        ]
    )
    capsys.readouterr()
    out = tmp_path / "camvid_goss_8_3" / "val"
    tool = _module(REPO / "tools" / "evaluate_goss.py", "evaluate_goss")
    gt = json.loads((out / "panoptic.json").read_text())
    n_known = 8
    args = [
        "--gt-json",
        str(out / "panoptic.json"),
        "--gt-dir",
        str(out / "panoptic"),
        "--num-known",
        str(n_known),
        "--bootstrap",
        "0",
    ]
    res_path = tmp_path / "self.json"
    with caplog.at_level(logging.INFO):
        rc = tool.main(
            args
            + [
                "--pred-json",
                str(out / "panoptic.json"),
                "--pred-dir",
                str(out / "panoptic"),
                "--output",
                str(res_path),
            ]
        )
    assert rc == 0, caplog.text
    res = json.loads(res_path.read_text())
    assert res["num_images"] == len(gt["annotations"]) == 101
    assert res["GQ_kn_present"] == pytest.approx(100.0)
    assert res["GQ_uk"] == pytest.approx(100.0) and res["mIoU"] == pytest.approx(100.0)
    n_segments = sum(len(a["segments_info"]) for a in gt["annotations"])
    assert sum(v["TP"] for v in res["per_class"].values()) == n_segments
    # an all-void prediction: every GT segment is a false negative, GQ is 0
    empty = tmp_path / "empty"
    empty.mkdir()
    anns = []
    for a in gt["annotations"]:
        w, h = Image.open(out / "panoptic" / a["file_name"]).size
        Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(empty / a["file_name"])
        anns.append({"image_id": a["image_id"], "file_name": a["file_name"], "segments_info": []})
    (tmp_path / "empty.json").write_text(json.dumps({"annotations": anns}))
    rc = tool.main(
        args
        + [
            "--pred-json",
            str(tmp_path / "empty.json"),
            "--pred-dir",
            str(empty),
            "--output",
            str(res_path),
        ]
    )
    res = json.loads(res_path.read_text())
    assert rc == 0 and res["GQ"] == 0.0
    assert sum(v["FN"] for v in res["per_class"].values()) == n_segments
    shutil.rmtree(tmp_path / "camvid_goss_8_3")
