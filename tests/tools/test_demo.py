"""tools/demo.py: drawings and COCO-panoptic exports of a tiny model."""

import json

import pytest
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model

from tests.common import small_goss_cfg, load_tool, write_tiny_goss_dataset


@pytest.fixture(scope="module")
def demo_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    records = write_tiny_goss_dataset(tmp / "data", "goss_test_tiny_demo", num_images=2)
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.MSP_THRESHOLD = 0.9  # an untrained model: plenty of unknown pixels
    cfg.DATASETS.TEST = ("goss_test_tiny_demo",)
    DetectionCheckpointer(build_model(cfg), save_dir=str(tmp)).save("tiny")
    cfg_path = tmp / "cfg.yaml"
    cfg_path.write_text(cfg.dump())
    return tmp, cfg_path, records


def _run(cfg_path, tmp, inputs, out):
    demo = load_tool("demo")
    demo.main(
        [
            "--config-file",
            str(cfg_path),
            "--input",
            *inputs,
            "--output",
            str(out),
            "--opts",
            "MODEL.WEIGHTS",
            str(tmp / "tiny.pth"),
        ]
    )


def test_demo_writes_drawing_and_panoptic_files(demo_setup):
    tmp, cfg_path, records = demo_setup
    out = tmp / "out"
    _run(cfg_path, tmp, [str(tmp / "data" / "*_image.png")], out)
    for r in records:
        stem = r["file_name"].rsplit("/", 1)[1][: -len(".png")]
        assert (out / f"{stem}.png").is_file()
        assert (out / f"{stem}_panoptic.png").is_file()
        info = json.loads((out / f"{stem}_panoptic.json").read_text())
        assert info["segments_info"], "an image gets at least one segment"
        assert {s["category_id"] for s in info["segments_info"]} <= {0, 1, 2, 3}
        assert info["categories"][-1]["name"] == "unknown"


def test_corrupt_image_error_names_the_file(demo_setup, tmp_path):
    tmp, cfg_path, _ = demo_setup
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    with pytest.raises(ValueError, match="broken.png"):
        _run(cfg_path, tmp, [str(bad)], tmp_path / "out")


def test_missing_input_error(demo_setup, tmp_path):
    tmp, cfg_path, _ = demo_setup
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        _run(cfg_path, tmp, [str(tmp_path / "nothing_here*.png")], tmp_path / "out")
