#!/usr/bin/env python
"""
Run a GOSS model on images or a video and draw the results.

    python tools/demo.py --config-file CFG --input img1.jpg dir/ "imgs/*.png" --output out/ \
        --opts MODEL.WEIGHTS model_final.pth

For every image it writes ``<name>.png`` (known classes coloured and named, each unknown cluster
outlined and numbered) and, for annotation tools, ``<name>_panoptic.png`` + ``<name>_panoptic.json``
(COCO panoptic format; category ids are train ids, ``N`` = unknown).
"""

import argparse
import glob
import json
import logging
import os

import cv2
import numpy as np
from PIL import Image

import goss  # noqa: F401  (applies the Detectron2 shims, registers GOSS)
from detectron2.data import MetadataCatalog
from detectron2.data.detection_utils import read_image
from detectron2.engine import DefaultPredictor
from detectron2.utils.logger import setup_logger
from goss.config import get_goss_cfg
from goss.utils import GOSSVisualizer, goss_to_coco_panoptic

_MIN_DRAWING_SIZE = 480
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
logger = logging.getLogger("goss.demo")


def get_parser():
    parser = argparse.ArgumentParser(description="GOSS demo")
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to config file")
    parser.add_argument("--input", nargs="+", help="images, folders or glob patterns")
    parser.add_argument("--video-input", help="a video file")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument(
        "--opts", default=[], nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs"
    )
    return parser


def expand_inputs(patterns):
    """Files, folders (their images, sorted) and glob patterns -> list of image paths."""
    paths = []
    for p in patterns:
        if os.path.isdir(p):
            paths += sorted(
                os.path.join(p, f) for f in os.listdir(p) if f.lower().endswith(_IMAGE_EXTS)
            )
        elif os.path.isfile(p):
            paths.append(p)
        else:
            matches = sorted(glob.glob(os.path.expanduser(p)))
            if not matches:
                raise FileNotFoundError(f"--input {p}: no such file, folder or matching glob")
            paths += matches
    return paths


class GOSSDemo:
    """Runs the predictor on BGR/RGB images and draws the GOSS output."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.predictor = DefaultPredictor(cfg)
        name = cfg.DATASETS.TEST[0] if len(cfg.DATASETS.TEST) else "__unused"
        self.metadata = MetadataCatalog.get(name)
        self.num_known = cfg.MODEL.GOSS.NUM_KNOWN_CLASSES
        self.label_divisor = cfg.MODEL.GOSS.LABEL_DIVISOR

    def run_on_image(self, image):
        """
        Args:
            image (ndarray): ``[H, W, 3]`` uint8 in ``cfg.INPUT.FORMAT`` order.
        Returns:
            (ndarray, ndarray): the GOSS ids ``[H, W]`` and the drawing ``[H, W, 3]`` RGB.
        """
        outputs = self.predictor(image)
        panoptic = outputs["panoptic_seg"][0].cpu().numpy()
        rgb = image[:, :, ::-1] if self.cfg.INPUT.FORMAT == "BGR" else image
        # Draw small images larger so that labels stay readable.
        scale = max(1.0, _MIN_DRAWING_SIZE / min(rgb.shape[:2]))
        vis = GOSSVisualizer(rgb, self.metadata, scale=scale)
        vis = vis.draw_goss(panoptic, self.num_known, self.label_divisor)
        return panoptic, vis.get_image()

    def save(self, path, panoptic, drawing, out_dir):
        """Write the drawing and the COCO-panoptic PNG + JSON; return the ``segments_info``."""
        stem = os.path.splitext(os.path.basename(path))[0]
        Image.fromarray(drawing).save(os.path.join(out_dir, f"{stem}.png"))
        pan_rgb, segments = goss_to_coco_panoptic(panoptic, self.num_known, self.label_divisor)
        Image.fromarray(pan_rgb).save(os.path.join(out_dir, f"{stem}_panoptic.png"))
        categories = [
            {"id": i, "name": n, "isthing": int(i == self.num_known)}
            for i, n in enumerate(self.metadata.get("stuff_classes", []))
        ]
        with open(os.path.join(out_dir, f"{stem}_panoptic.json"), "w") as f:
            json.dump(
                {
                    "file_name": f"{stem}_panoptic.png",
                    "image": os.path.basename(path),
                    "segments_info": segments,
                    "categories": categories,
                },
                f,
                indent=1,
            )
        return segments


def run_video(demo, path, out_dir):
    video = cv2.VideoCapture(path)
    if not video.isOpened():
        raise ValueError(f"--video-input {path}: cannot open the video")
    fps = video.get(cv2.CAP_PROP_FPS) or 10.0
    writer = None
    out_path = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0] + "_goss.mp4")
    while True:
        ok, frame = video.read()
        if not ok:
            break
        image = frame if demo.cfg.INPUT.FORMAT == "BGR" else frame[:, :, ::-1]
        _, drawing = demo.run_on_image(np.ascontiguousarray(image))
        if writer is None:
            h, w = drawing.shape[:2]
            writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        writer.write(drawing[:, :, ::-1])
    video.release()
    if writer is None:
        raise ValueError(f"--video-input {path}: no frame could be read")
    writer.release()
    logger.info("wrote %s", out_path)


def main(args=None):
    args = get_parser().parse_args(args)
    setup_logger(name="goss")
    if not args.input and not args.video_input:
        raise SystemExit("give --input and/or --video-input")
    cfg = get_goss_cfg(args.config_file, args.opts)
    os.makedirs(args.output, exist_ok=True)
    demo = GOSSDemo(cfg)
    for path in expand_inputs(args.input or []):
        try:
            image = read_image(path, format=cfg.INPUT.FORMAT)
        except Exception as e:  # PIL raises several types for unreadable files
            raise ValueError(f"cannot read image {path}: {e}") from e
        panoptic, drawing = demo.run_on_image(image)
        segments = demo.save(path, panoptic, drawing, args.output)
        n_unknown = sum(s["isthing"] for s in segments)
        logger.info("%s: %d unknown clusters", path, n_unknown)
    if args.video_input:
        run_video(demo, args.video_input, args.output)


if __name__ == "__main__":
    main()
