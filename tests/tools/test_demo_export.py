"""
tools/demo.py's COCO panoptic export: one dataset JSON + the PNG folder, read unchanged by
tools/evaluate_goss.py (same GQ as --eval-only on goss_shapes val), checked the way panopticapi
checks a prediction; the progress bar; the video path on frames written with OpenCV.
"""

import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model
from goss.data.datasets import register_goss_split, split_metadata
from goss.data.datasets.builtin_meta import SHAPES_NUM_KNOWN
from goss.data.shapes import build_goss_shapes
from goss.evaluation import read_id_png
from tests.common import load_tool, small_goss_cfg

DATASET = "goss_test_shapes_val_export"
# the keys both paths compute from the panoptic prediction alone
SAME_KEYS = (
    "GQ",
    "GQ_kn",
    "GQ_kn_present",
    "GQ_uk",
    "SQ_uk",
    "RQ_uk",
    "mIoU",
    "TP_uk",
    "FP_uk",
    "FN_uk",
    "sIoU_uk",
    "PPV_uk",
    "mF1_uk",
)


@pytest.fixture(scope="module")
def shapes_setup(tmp_path_factory):
    """A small goss_shapes (same generator, 5 val images of 64x64) and a tiny random GOSS model."""
    tmp = tmp_path_factory.mktemp("demo_export")
    build_goss_shapes(str(tmp / "ds"), num_train=1, num_val=5, image_size=64, seed=3)
    split = tmp / "ds" / "goss_shapes" / "val"
    register_goss_split(DATASET, str(split), split_metadata("goss_shapes"), "(test)")
    cfg = small_goss_cfg(
        num_known=SHAPES_NUM_KNOWN, train_mode="n", identifier="max_logit", contrastive=False
    )
    cfg.MODEL.GOSS.MAX_LOGIT_THRESHOLD = 0.4  # random heads: some known, some unknown pixels
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "connected_components"
    cfg.DATASETS.TEST = (DATASET,)
    cfg.INPUT.MIN_SIZE_TEST = 64
    cfg.INPUT.MAX_SIZE_TEST = 64
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.OUTPUT_DIR = str(tmp / "eval_only")
    torch.manual_seed(0)
    DetectionCheckpointer(build_model(cfg), save_dir=str(tmp)).save("tiny")
    cfg.MODEL.WEIGHTS = str(tmp / "tiny.pth")
    cfg_path = tmp / "cfg.yaml"
    cfg_path.write_text(cfg.dump())
    return tmp, cfg_path, split


def _demo(cfg_path, inputs, out, *flags):
    args = ["--config-file", str(cfg_path), "--input", *map(str, inputs), "--output", str(out)]
    return load_tool("demo").main([*args, *flags])


def _check_like_panopticapi(dataset, png_dir):
    """The checks panopticapi's pq_compute makes of a prediction, plus COCO's field layout."""
    assert {"images", "annotations", "categories"} <= set(dataset)
    categories = {c["id"]: c for c in dataset["categories"]}
    image_ids = [i["id"] for i in dataset["images"]]
    assert len(set(image_ids)) == len(image_ids)
    for image in dataset["images"]:
        assert {"id", "file_name", "height", "width"} <= set(image)
    assert [a["image_id"] for a in dataset["annotations"]] == image_ids
    for ann, image in zip(dataset["annotations"], dataset["images"]):
        ids = read_id_png(str(png_dir / ann["file_name"]))
        assert ids.shape == (image["height"], image["width"])
        listed = {s["id"]: s for s in ann["segments_info"]}
        assert len(listed) == len(ann["segments_info"]), "segment ids are unique"
        present, counts = np.unique(ids, return_counts=True)
        for sid, count in zip(present, counts):
            if sid == 0:  # void
                continue
            assert sid in listed, f"segment {sid} of the PNG is not in segments_info"
            assert listed[sid]["area"] == count
            ys, xs = np.nonzero(ids == sid)
            x, y = int(xs.min()), int(ys.min())
            bbox = [x, y, int(xs.max()) - x + 1, int(ys.max()) - y + 1]
            assert listed[sid]["bbox"] == bbox
        assert set(listed) <= set(present.tolist()), "every listed segment is in the PNG"
        for s in ann["segments_info"]:
            assert s["category_id"] in categories
            assert s["isthing"] == categories[s["category_id"]]["isthing"]


def test_dataset_json_is_coco_panoptic(shapes_setup, tmp_path):
    tmp, cfg_path, split = shapes_setup
    assert _demo(cfg_path, [split / "images"], tmp_path) == 0
    dataset = json.loads((tmp_path / "panoptic.json").read_text())
    _check_like_panopticapi(dataset, tmp_path)
    stems = sorted(p.stem for p in (split / "images").iterdir())
    assert [i["id"] for i in dataset["images"]] == stems
    assert [i["file_name"] for i in dataset["images"]] == [s + ".png" for s in stems]
    gt = json.loads((split / "panoptic.json").read_text())
    # the categories as the dataset defines them: names, isthing, is_unknown, colours
    keys = ("id", "name", "isthing", "is_unknown", "color")
    assert [{k: c[k] for k in keys} for c in dataset["categories"]] == [
        {k: c[k] for k in keys} for c in gt["categories"]
    ]
    assert [c["isthing"] for c in dataset["categories"]] == [0] * SHAPES_NUM_KNOWN + [1]
    assert any(s["isthing"] for a in dataset["annotations"] for s in a["segments_info"])


def test_demo_export_evaluated_equals_eval_only(shapes_setup, tmp_path):
    """demo.py + evaluate_goss.py on goss_shapes val give the GQ of train_net.py --eval-only."""
    tmp, cfg_path, split = shapes_setup
    train_net = load_tool("train_net")
    args = train_net.get_parser().parse_args(["--config-file", str(cfg_path), "--eval-only"])
    expected = train_net.main(args)["goss"]
    assert _demo(cfg_path, [split / "images"], tmp_path / "demo") == 0
    results = tmp_path / "results.json"
    evaluate = load_tool("evaluate_goss")
    rc = evaluate.main(
        [
            "--gt-json",
            str(split / "panoptic.json"),
            "--gt-dir",
            str(split / "panoptic"),
            "--pred-json",
            str(tmp_path / "demo" / "panoptic.json"),
            "--pred-dir",
            str(tmp_path / "demo"),
            "--num-known",
            str(SHAPES_NUM_KNOWN),
            "--bootstrap",
            "0",
            "--output",
            str(results),
        ]
    )
    assert rc == 0
    got = json.loads(results.read_text())
    assert got["num_images"] == expected["num_images"] == 5
    for key in SAME_KEYS:
        assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    # the random heads reach GQ 0 here, so the comparison rests on the quantities that are not 0:
    # mIoU, the unknown segments' FP/FN and component scores, and every class's counts and IoU
    assert expected["mIoU"] > 0 and expected["FP_uk"] > 0 and expected["sIoU_uk"] > 0
    per_class = json.loads(
        (tmp / "eval_only" / "inference" / DATASET / "gq_results.json").read_text()
    )
    assert got["per_class"].keys() == per_class["per_class"].keys()
    for c, row in per_class["per_class"].items():
        for key in ("TP", "FP", "FN", "IoU", "GQ"):
            assert got["per_class"][c][key] == pytest.approx(row[key], abs=1e-9), (c, key)
    assert sum(c["FP"] + c["FN"] for c in got["per_class"].values()) > 0


def test_progress_bar_over_many_inputs(shapes_setup, tmp_path, capsys):
    tmp, cfg_path, split = shapes_setup
    images = sorted((split / "images").iterdir())
    assert _demo(cfg_path, images, tmp_path / "many") == 0
    err = capsys.readouterr().err
    assert "demo: 100%" in err and f"{len(images)}/{len(images)}" in err
    assert _demo(cfg_path, images[:1], tmp_path / "one") == 0
    assert "demo:" not in capsys.readouterr().err, "no bar for a single input"


def test_video_input_frames_written_with_opencv(shapes_setup, tmp_path):
    """Each frame of the output video is the drawing of that frame (up to mp4 compression)."""
    tmp, cfg_path, split = shapes_setup
    frames = [cv2.imread(str(p)) for p in sorted((split / "images").iterdir())[:3]]
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 64))
    for f in frames:
        writer.write(f)
    writer.release()
    demo = load_tool("demo")
    args = ["--config-file", str(cfg_path), "--video-input", str(video), "--output", str(tmp_path)]
    assert demo.main(args) == 0
    assert not (tmp_path / "panoptic.json").exists(), "no dataset JSON for a video alone"
    # what the demo draws for the frames as they decode from the input video
    from goss.config import get_goss_cfg

    goss_demo = demo.GOSSDemo(get_goss_cfg(str(cfg_path)))
    source = cv2.VideoCapture(str(video))
    drawn = cv2.VideoCapture(str(tmp_path / "clip_goss.mp4"))
    assert int(drawn.get(cv2.CAP_PROP_FRAME_COUNT)) == len(frames)
    errors = []
    for _ in frames:
        ok_in, frame = source.read()
        ok_out, out = drawn.read()
        assert ok_in and ok_out
        image = frame if goss_demo.cfg.INPUT.FORMAT == "BGR" else frame[:, :, ::-1]
        _, drawing = goss_demo.run_on_image(np.ascontiguousarray(image))
        assert out.shape == drawing.shape
        errors.append(np.abs(out.astype(int) - drawing[:, :, ::-1].astype(int)).mean())
    source.release()
    drawn.release()
    assert max(errors) < 12, errors
    # and a frame is told apart from another frame's drawing
    other = np.abs(out.astype(int) - np.asarray(Image.new("RGB", out.shape[1::-1]))).mean()
    assert other > 2 * max(errors)
