"""tools/demo.py: drawings and COCO-panoptic exports of a tiny model, and bad inputs."""

import json
import logging
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model
from goss.config import get_goss_cfg
from goss.engine.errors import ToolError
from goss.utils.panoptic_export import goss_to_coco_panoptic
from tests.common import REPO, load_tool, small_goss_cfg, write_broken_pngs, write_tiny_goss_dataset

DATASET = "goss_test_tiny_demo"


@pytest.fixture(scope="module")
def demo_setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    # Not square, so that the test resizing (64 px short side) changes the size.
    records = write_tiny_goss_dataset(tmp / "data", DATASET, num_images=2, size=(48, 96))
    for r in records:  # strongly coloured, so that swapping R and B changes the predictions
        image = np.asarray(Image.open(r["file_name"])).astype(np.float64)
        image = image * np.array([1.0, 0.5, 0.15]) + np.array([0, 40, 160])
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(r["file_name"])
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="max_logit", contrastive=False)
    # The max logit is normalised per image: known and unknown pixels even from random heads.
    cfg.MODEL.GOSS.MAX_LOGIT_THRESHOLD = 0.3
    cfg.DATASETS.TEST = (DATASET,)
    cfg.INPUT.MIN_SIZE_TEST = 64
    cfg.INPUT.MAX_SIZE_TEST = 200
    cfg.DATALOADER.NUM_WORKERS = 0
    torch.manual_seed(0)
    DetectionCheckpointer(build_model(cfg), save_dir=str(tmp)).save("tiny")
    cfg.MODEL.WEIGHTS = str(tmp / "tiny.pth")
    cfg_path = tmp / "cfg.yaml"
    cfg_path.write_text(cfg.dump())
    return tmp, cfg_path, records


def _run(cfg_path, inputs, out, *opts, flags=()):
    demo = load_tool("demo")
    args = ["--config-file", str(cfg_path), "--input", *inputs, "--output", str(out), *flags]
    return demo.main(args + ["--opts", *opts] if opts else args)


def _stem(record):
    return record["file_name"].rsplit("/", 1)[1][: -len(".png")]


def test_demo_writes_drawing_and_panoptic_files(demo_setup):
    tmp, cfg_path, records = demo_setup
    out = tmp / "out"
    assert _run(cfg_path, [str(tmp / "data" / "*_image.png")], out) == 0
    for r in records:
        stem = _stem(r)
        assert (out / f"{stem}.png").is_file()
        assert (out / f"{stem}_panoptic.png").is_file()
        info = json.loads((out / f"{stem}_panoptic.json").read_text())
        assert info["segments_info"], "an image gets at least one segment"
        assert {s["category_id"] for s in info["segments_info"]} <= {0, 1, 2, 3}
        assert info["categories"][-1]["name"] == "unknown"
    assert not list(out.glob(".*")), "no temporary file is left"


def test_demo_predictions_equal_eval_only(demo_setup, tmp_path):
    """The demo feeds the model as --eval-only does: same channel order, same resizing."""
    tmp, cfg_path, records = demo_setup
    train_net = load_tool("train_net")
    cfg = get_goss_cfg(str(cfg_path))
    model = train_net.Trainer.build_model(cfg)
    DetectionCheckpointer(model).load(cfg.MODEL.WEIGHTS)
    model.eval()
    expected = {}
    with torch.no_grad():
        for batch in train_net.Trainer.build_test_loader(cfg, DATASET):
            assert tuple(batch[0]["image"].shape[1:]) == (64, 128), "the test mapper resizes"
            pan = model(batch)[0]["panoptic_seg"][0].numpy()
            expected[_stem(batch[0])] = goss_to_coco_panoptic(pan, 3)
    assert _run(cfg_path, [r["file_name"] for r in records], tmp_path) == 0
    for stem, (rgb, segments) in expected.items():
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"{stem}_panoptic.png")), rgb)
        assert json.loads((tmp_path / f"{stem}_panoptic.json").read_text())["segments_info"] == (
            segments
        )


def test_output_folder_holding_the_inputs_keeps_them(demo_setup, tmp_path):
    tmp, cfg_path, records = demo_setup
    for r in records:
        shutil.copy(r["file_name"], tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert _run(cfg_path, [str(tmp_path)], tmp_path) == 0
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data, f"input {name} was overwritten"
        stem = name[: -len(".png")]
        assert (tmp_path / f"{stem}-2.png").is_file()
        info = json.loads((tmp_path / f"{stem}-2_panoptic.json").read_text())
        assert info["file_name"] == f"{stem}-2_panoptic.png" and info["image"] == name


def test_inputs_with_the_same_stem_get_their_own_outputs(demo_setup, tmp_path):
    tmp, cfg_path, records = demo_setup
    inputs = []
    for folder, r in zip(("a", "b"), records):
        (tmp_path / folder).mkdir()
        inputs.append(tmp_path / folder / "x.png")
        shutil.copy(r["file_name"], inputs[-1])
    out = tmp_path / "out"
    assert _run(cfg_path, [str(p) for p in inputs], out) == 0
    first, second = (out / "x_panoptic.png").read_bytes(), (out / "x-2_panoptic.png").read_bytes()
    assert first != second, "two different images, two different outputs"
    # the same file given twice runs once
    assert _run(cfg_path, [str(inputs[0]), str(tmp_path / "a")], tmp_path / "once") == 0
    assert sorted(p.name for p in (tmp_path / "once").iterdir()) == [
        "panoptic.json",
        "x.png",
        "x_panoptic.json",
        "x_panoptic.png",
    ]


def test_output_names_are_unique_across_kinds():
    demo = load_tool("demo")
    # "x_panoptic.png"'s drawing would be the panoptic PNG of "x.png", and both are inputs of out/
    inputs = ["out/x.png", "out/x_panoptic.png", "y/x.png", "v/x.mp4"]
    kinds = [demo.IMAGE_OUTPUTS] * 3 + [demo.VIDEO_OUTPUTS]
    plans = demo.plan_outputs(list(zip(inputs, kinds)), "out")
    assert plans == [
        ["out/x-2.png", "out/x-2_panoptic.png", "out/x-2_panoptic.json"],
        ["out/x_panoptic-2.png", "out/x_panoptic-2_panoptic.png", "out/x_panoptic-2_panoptic.json"],
        ["out/x-3.png", "out/x-3_panoptic.png", "out/x-3_panoptic.json"],
        ["out/x_goss.mp4"],
    ]
    assert demo.plan_outputs(list(zip(inputs, kinds)), "out") == plans, "deterministic"


def test_bad_inputs_are_reported_and_the_others_run(demo_setup, tmp_path, goss_log):
    tmp, cfg_path, records = demo_setup
    (tmp_path / "in").mkdir()
    broken = write_broken_pngs(tmp_path / "in")
    thin = tmp_path / "in" / "thin.png"  # 4x2000: resizes to 0 pixels high
    Image.fromarray(np.full((4, 2000, 3), 128, np.uint8)).save(thin)
    inputs = [broken["zeroed"], broken["truncated"], thin, records[0]["file_name"]]
    out = tmp_path / "out"
    assert _run(cfg_path, [str(p) for p in inputs], out) == 1
    stem = _stem(records[0])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{stem}.png", f"{stem}_panoptic.png", f"{stem}_panoptic.json", "panoptic.json"]
    ), "only the good image has outputs, and no temporary file is left"
    dataset = json.loads((out / "panoptic.json").read_text())
    assert [a["image_id"] for a in dataset["annotations"]] == [stem], "only the image that ran"
    errors = [r.getMessage() for r in goss_log.records if r.levelno >= logging.ERROR]
    for name in ("zeroed.png", "truncated.png"):
        assert any(f"cannot read image {tmp_path / 'in' / name}" in e for e in errors), name
    assert any(str(thin) in e and "aspect ratio" in e for e in errors)
    assert "3 of 4 inputs failed" in errors[-1]


def test_write_atomic_leaves_nothing_half_written(tmp_path):
    demo = load_tool("demo")
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        demo.write_atomic(str(target), "not bytes")  # fails while writing
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
    demo.write_atomic(str(target), b"new")
    assert target.read_bytes() == b"new" and len(list(tmp_path.iterdir())) == 1


def test_missing_input_error(demo_setup, tmp_path):
    tmp, cfg_path, _ = demo_setup
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        _run(cfg_path, [str(tmp_path / "nothing_here*.png")], tmp_path / "out")


@pytest.mark.parametrize("weights", ["", "goss://ImageNetPretrained/mobilenet_v2"])
def test_untrained_model_is_refused(demo_setup, tmp_path, weights):
    tmp, cfg_path, records = demo_setup
    inputs = [records[0]["file_name"]]
    with pytest.raises(ToolError, match="--allow-untrained"):
        _run(cfg_path, inputs, tmp_path / "out", "MODEL.WEIGHTS", weights)
    assert not (tmp_path / "out").exists()
    if not weights:
        flags = ["--allow-untrained"]
        assert _run(cfg_path, inputs, tmp_path / "out", "MODEL.WEIGHTS", "", flags=flags) == 0


def test_num_known_classes_must_match_the_dataset(demo_setup, tmp_path):
    tmp, cfg_path, records = demo_setup
    with pytest.raises(ToolError, match=rf"NUM_KNOWN_CLASSES is 2 but dataset '{DATASET}' has 3"):
        _run(cfg_path, [records[0]["file_name"]], tmp_path, "MODEL.GOSS.NUM_KNOWN_CLASSES", "2")


def test_cli_refusal_is_one_line_with_status_2(demo_setup, tmp_path):
    tmp, cfg_path, records = demo_setup
    cmd = [sys.executable, "tools/demo.py", "--config-file", str(cfg_path)]
    cmd += ["--input", records[0]["file_name"], "--output", str(tmp_path)]
    cmd += ["--opts", "MODEL.WEIGHTS", ""]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("demo.py: error: MODEL.WEIGHTS is empty")


def test_video(demo_setup, tmp_path, goss_log):
    tmp, cfg_path, records = demo_setup
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (96, 48))
    for r in records:
        writer.write(cv2.imread(r["file_name"]))
    writer.release()
    demo = load_tool("demo")
    args = ["--config-file", str(cfg_path), "--video-input", str(video), "--output", str(tmp_path)]
    assert demo.main(args) == 0
    drawn = cv2.VideoCapture(str(tmp_path / "clip_goss.mp4"))
    assert int(drawn.get(cv2.CAP_PROP_FRAME_COUNT)) == 2
    drawn.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "clip_goss.mp4"]
    args[3] = str(tmp_path / "nothing.mp4")
    assert demo.main(args) == 1
    assert "nothing.mp4: cannot open the video" in goss_log.text
