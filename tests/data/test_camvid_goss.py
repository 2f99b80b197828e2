"""CamVid-GOSS from the real CamVid val split (../shared/data/camvid), and the script's checks."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from goss.data.datasets import load_goss_json
from goss.data.datasets.builtin_meta import CAMVID_VOID
from goss.utils.panoptic_ids import rgb2id

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"
sys.path.insert(0, str(REPO / "datasets"))
import prepare_camvid_goss  # noqa: E402

needs_camvid = pytest.mark.skipif(
    not (CAMVID / "valannot").is_dir(), reason=f"CamVid not found at {CAMVID}"
)


@needs_camvid
def test_camvid_val_every_pixel_accounted_for(tmp_path, capsys):
    prepare_camvid_goss.main(
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
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {"camvid_goss_8_3": {"val": {"kept": 101, "dropped": 0}}}
    out = tmp_path / "camvid_goss_8_3" / "val"
    manifest = json.loads((out / "manifest.json").read_text())
    d = load_goss_json(
        str(out / "panoptic.json"), str(out / "images"), str(out / "panoptic"), str(out / "sem_seg")
    )
    assert len(d) == 101 == len(list((CAMVID / "val").iterdir()))
    totals = np.zeros(12, np.int64)
    segments = 0
    for rec in d:
        label = np.array(Image.open(CAMVID / "valannot" / (rec["image_id"] + ".png")))
        sem = np.array(Image.open(rec["sem_seg_file_name"]))
        pan = rgb2id(np.array(Image.open(rec["pan_seg_file_name"])))
        assert label.shape == sem.shape == pan.shape == (rec["height"], rec["width"]) == (360, 480)
        expected = np.where(label < 8, label, np.where(label == CAMVID_VOID, 255, 254))
        np.testing.assert_array_equal(sem, expected)
        assert ((pan == 0) == (label == CAMVID_VOID)).all()
        ids = {s["id"] for s in rec["segments_info"]}
        assert set(np.unique(pan).tolist()) - {0} == ids
        for s in rec["segments_info"]:
            m = pan == s["id"]
            assert m.sum() == s["area"]
            src = np.unique(label[m])
            assert len(src) == 1  # one original class per segment
            assert s["category_id"] == (src[0] if src[0] < 8 else 8)
        segments += sum(s["category_id"] == 8 for s in rec["segments_info"])
        totals += np.bincount(label.ravel(), minlength=12)
    assert [c["pixels"] for c in manifest["known_classes"]] == totals[:8].tolist()
    assert [c["pixels"] for c in manifest["unknown_classes"]] == totals[8:11].tolist()
    assert manifest["void_pixels"] == totals[11]
    assert manifest["unknown_segments"] == segments > 101
    assert Path(os.path.realpath(d[0]["file_name"])).parent == (CAMVID / "val").resolve()


def test_script_requires_requested_split_folders(tmp_path, caplog):
    (tmp_path / "train").mkdir()
    (tmp_path / "trainannot").mkdir()
    argv = ["--camvid-root", str(tmp_path), "--output", str(tmp_path / "o")]
    assert prepare_camvid_goss.main(argv) == 2
    assert f"--camvid-root: {tmp_path / 'val'} is not a directory" in caplog.text
    caplog.clear()
    assert prepare_camvid_goss.main(argv + ["--splits", "train"]) == 2  # not requested: only train
    assert "no images" in caplog.text
