#!/usr/bin/env python
"""
Run a GOSS model on images or a video and draw the results.

    python tools/demo.py --config-file CFG --input img1.jpg dir/ "imgs/*.png" --output out/ \
        --opts MODEL.WEIGHTS model_final.pth

The model sees each image as ``tools/train_net.py --eval-only`` shows it (``INPUT.FORMAT``
channel order, the test mapper's resizing); ``MODEL.WEIGHTS`` must be a trained GOSS model
(``--allow-untrained`` runs random heads anyway).

For every image it writes into ``--output`` ``<name>.png`` (known classes coloured and named,
each unknown cluster outlined and numbered) and ``<name>_panoptic.png`` + ``<name>_panoptic.json``
(COCO panoptic format; category ids are train ids, ``N`` = unknown); for a video,
``<name>_goss.mp4``. Over all the images that ran it writes one COCO panoptic dataset JSON,
``--output``/``panoptic.json``: ``images`` (``id`` = ``<name>``, the input's ``file_name``,
``height``, ``width``), ``annotations`` (``image_id``, ``file_name`` = ``<name>_panoptic.png``,
``segments_info`` with ``id``, ``category_id``, ``area``, ``bbox``, ``iscrowd``, ``isthing``,
``cluster``) and ``categories`` (the N known classes and "unknown", ``isthing`` as the GOSS
ground truth defines it: 0 for the known classes, 1 for "unknown"). The PNG folder is
``--output`` itself, so that

    python tools/evaluate_goss.py --gt-json GT.json --gt-dir GT_PNG_DIR \
        --pred-json OUT/panoptic.json --pred-dir OUT --num-known N

scores the predictions (``<name>`` is the input's stem, as the GOSS builders' image ids are the
stems of their image files). Many inputs show a progress bar (tqdm, on stderr).

Output names: ``<name>`` is the input's file stem. Inputs run in the order given (a folder's
images and a glob's matches sorted by name; a file given twice runs once). When a stem's outputs
would take the path of an input, or of an earlier input's outputs (two inputs with the same stem),
the first free ``<stem>-2``, ``<stem>-3``, ... is used instead. The names are thus deterministic,
no input is ever overwritten and no two inputs share an output; other files of those names (an
earlier run's outputs) are replaced. Every file is written to a temporary file beside it and then
renamed, so none is ever left half-written.

Errors: an input that cannot be read (corrupt, truncated) or run (e.g. an extreme aspect ratio)
is reported on one line naming the file, and the other inputs still run; a summary ends the run.
Exit status: 0 when every input was written, 1 when some failed, 2 when nothing ran (bad
arguments, an ``--input`` that matches no file, an untrained model, a config that does not match
the dataset), with the reason on one line of stderr.
"""

import argparse
import glob
import io
import itertools
import json
import logging
import os
import sys

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import goss  # noqa: F401  (applies the Detectron2 shims, registers GOSS)
from detectron2.data import MetadataCatalog
from detectron2.utils.logger import setup_logger
from goss.config import get_goss_cfg
from goss.data.goss_format import atomic_write_bytes
from goss.data.image_io import read_image
from goss.engine.checks import check_dataset_metadata
from goss.engine.errors import ToolError
from goss.engine.predictor import GOSSPredictor
from goss.utils.panoptic_export import coco_panoptic_categories, goss_to_coco_panoptic
from goss.utils.visualizer import GOSSVisualizer

# Small images are drawn larger so that labels stay readable, within this size.
_MIN_DRAWING_SIZE = 480
_MAX_DRAWING_SIZE = 4096
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# The outputs of an input named <name>: the drawing, then the COCO panoptic PNG and JSON.
IMAGE_OUTPUTS = ("{}.png", "{}_panoptic.png", "{}_panoptic.json")
VIDEO_OUTPUTS = ("{}_goss.mp4",)
# the COCO panoptic dataset JSON of all images (no <name> output ends like this)
DATASET_JSON = "panoptic.json"
logger = logging.getLogger("goss.demo")


def get_parser():
    parser = argparse.ArgumentParser(
        description="GOSS demo",
        epilog="Exit status: 0 every input written, 1 some inputs failed, 2 nothing ran.",
    )
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to config file")
    parser.add_argument("--input", nargs="+", help="images, folders or glob patterns")
    parser.add_argument("--video-input", help="a video file")
    parser.add_argument(
        "--output",
        required=True,
        help="output folder (may hold the inputs: outputs never take an input's name)",
    )
    parser.add_argument(
        "--allow-untrained",
        action="store_true",
        help="run even if MODEL.WEIGHTS is empty, a backbone initialisation (ImageNet) or lacks "
        "the GOSS heads: the predictions are then those of random heads",
    )
    parser.add_argument(
        "--opts", default=[], nargs=argparse.REMAINDER, help="config overrides as KEY VALUE pairs"
    )
    return parser


def expand_inputs(patterns):
    """Files, folders (their images, sorted) and glob patterns -> image paths, each once."""
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
    seen = set()
    unique = []
    for p in paths:
        if os.path.realpath(p) not in seen:
            seen.add(os.path.realpath(p))
            unique.append(p)
    return unique


def plan_outputs(inputs, out_dir):
    """
    Unique output paths (see the module docstring).

    Args:
        inputs (list[tuple[str, tuple[str]]]): each input path with its output patterns, such as
            :data:`IMAGE_OUTPUTS`.
        out_dir (str): the output folder.
    Returns:
        list[list[str]]: each input's output paths.
    """
    protected = {os.path.realpath(path) for path, _ in inputs}
    taken = set()
    plans = []
    for path, patterns in inputs:
        stem = os.path.splitext(os.path.basename(path))[0]
        for k in itertools.count(1):
            name = stem if k == 1 else f"{stem}-{k}"
            outs = [os.path.join(out_dir, p.format(name)) for p in patterns]
            real = {os.path.realpath(o) for o in outs}
            if not real & (protected | taken):
                break
        taken |= real
        plans.append(outs)
    return plans


def _temp_path(path, suffix=".tmp"):
    """A new hidden temporary file beside ``path``, created with the umask's permissions."""
    folder, base = os.path.split(path)
    for k in itertools.count():
        tmp = os.path.join(folder, f".{base}.{os.getpid()}.{k}{suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue


def _remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` through a temporary file and a rename."""
    atomic_write_bytes(path, data)


def _png_bytes(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


class GOSSDemo:
    """Runs the predictor on images in ``cfg.INPUT.FORMAT`` and draws the GOSS output."""

    def __init__(self, cfg, allow_untrained=False):
        self.cfg = cfg
        self.predictor = GOSSPredictor(cfg, allow_untrained=allow_untrained)
        name = cfg.DATASETS.TEST[0] if len(cfg.DATASETS.TEST) else "__unused"
        self.metadata = MetadataCatalog.get(name)
        self.num_known = cfg.MODEL.GOSS.NUM_KNOWN_CLASSES
        self.label_divisor = cfg.MODEL.GOSS.LABEL_DIVISOR

    def run_on_image(self, image):
        """
        Args:
            image (ndarray): ``[H, W, 3]`` uint8 in ``cfg.INPUT.FORMAT`` order.
        Returns:
            (ndarray, ndarray): the GOSS ids ``[H, W]`` and the drawing ``[H', W', 3]`` RGB.
        """
        outputs = self.predictor(image)
        panoptic = outputs["panoptic_seg"][0].cpu().numpy()
        rgb = image[:, :, ::-1] if self.cfg.INPUT.FORMAT == "BGR" else image
        h, w = rgb.shape[:2]
        scale = max(1.0, min(_MIN_DRAWING_SIZE / min(h, w), _MAX_DRAWING_SIZE / max(h, w)))
        vis = GOSSVisualizer(rgb, self.metadata, scale=scale)
        vis = vis.draw_goss(panoptic, self.num_known, self.label_divisor)
        return panoptic, vis.get_image()

    def encode(self, path, panoptic, drawing, outs):
        """
        The contents of the outputs ``outs`` (paths as in :data:`IMAGE_OUTPUTS`) of the input
        ``path``.

        Returns:
            (dict[str, bytes], list[dict]): output path -> content, and the ``segments_info``.
        """
        drawing_path, pan_path, json_path = outs
        pan_rgb, segments = goss_to_coco_panoptic(panoptic, self.num_known, self.label_divisor)
        info = {
            "file_name": os.path.basename(pan_path),
            "image": os.path.basename(path),
            "segments_info": segments,
            "categories": self.categories(),
        }
        files = {
            drawing_path: _png_bytes(drawing),
            pan_path: _png_bytes(pan_rgb),
            json_path: json.dumps(info, indent=1).encode(),
        }
        return files, segments

    def categories(self):
        """The dataset JSON's ``categories`` (:func:`goss.utils.coco_panoptic_categories`)."""
        return coco_panoptic_categories(self.metadata, self.num_known)


def run_image(demo, path, outs):
    """
    Run ``demo`` on the image ``path`` and write its outputs ``outs``.

    Returns:
        (dict, dict): the image's ``images`` and ``annotations`` entries of the dataset JSON.
    """
    image = read_image(path, format=demo.cfg.INPUT.FORMAT)
    panoptic, drawing = demo.run_on_image(image)
    files, segments = demo.encode(path, panoptic, drawing, outs)
    for out, data in files.items():
        write_atomic(out, data)
    n_unknown = sum(s["isthing"] for s in segments)
    logger.info("%s -> %s: %d unknown clusters", path, outs[0], n_unknown)
    name = os.path.splitext(os.path.basename(outs[0]))[0]
    height, width = panoptic.shape
    entry = {"id": name, "file_name": os.path.basename(path), "height": height, "width": width}
    annotation = {
        "image_id": name,
        "file_name": os.path.basename(outs[1]),
        "segments_info": segments,
    }
    return entry, annotation


def write_dataset_json(demo, path, results):
    """
    Write the COCO panoptic dataset JSON ``path`` of the images that ran.

    Args:
        results (list[tuple[dict, dict]]): :func:`run_image`'s return values, in input order.
    """
    dataset = {
        "info": {"description": "GOSS predictions (tools/demo.py)"},
        "images": [entry for entry, _ in results],
        "annotations": [annotation for _, annotation in results],
        "categories": demo.categories(),
    }
    write_atomic(path, json.dumps(dataset, indent=1).encode())
    logger.info("%s: COCO panoptic JSON of %d images", path, len(results))


def _write_video(demo, video, path):
    """Write the drawings of the frames of ``video`` (cv2.VideoCapture) to ``path``."""
    fps = video.get(cv2.CAP_PROP_FPS) or 10.0
    writer = None
    try:
        while True:
            ok, frame = video.read()
            if not ok:
                break
            image = frame if demo.cfg.INPUT.FORMAT == "BGR" else frame[:, :, ::-1]
            _, drawing = demo.run_on_image(np.ascontiguousarray(image))
            if writer is None:
                h, w = drawing.shape[:2]
                writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                if not writer.isOpened():
                    raise ValueError(f"cannot write the video {path}")
            writer.write(np.ascontiguousarray(drawing[:, :, ::-1]))
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError("no frame could be read")


def run_video(demo, path, outs):
    """Run ``demo`` on the frames of the video ``path`` and write the drawings to ``outs[0]``."""
    video = cv2.VideoCapture(path)
    if not video.isOpened():
        raise ValueError("cannot open the video")
    tmp = _temp_path(outs[0], suffix=".mp4")  # OpenCV picks the container by the extension
    try:
        _write_video(demo, video, tmp)
        os.replace(tmp, outs[0])
    finally:
        video.release()
        _remove_quietly(tmp)
    logger.info("%s -> %s", path, outs[0])


def _failure_message(path, error):
    message = str(error) if isinstance(error, (ValueError, OSError)) else f"{error!r}"
    return message if path in message else f"{path}: {message}"


def run_all(demo, jobs, results=None):
    """
    Run every job, reporting each failure on one line and going on with the others. A progress
    bar (tqdm, on stderr) shows when there is more than one job.

    Args:
        jobs (list[tuple[callable, str, list[str]]]): ``(run_image or run_video, input, outputs)``.
        results (list or None): if given, each successful :func:`run_image`'s return value is
            appended to it.
    Returns:
        dict[str, str]: failed input -> error message.
    """
    failures = {}
    bar = tqdm(jobs, desc="demo", unit="input", disable=len(jobs) < 2, mininterval=0.5)
    with logging_redirect_tqdm(loggers=[logging.getLogger("goss")]):
        for run, path, outs in bar:
            try:
                result = run(demo, path, outs)
            except Exception as e:  # one bad input must not stop the others
                failures[path] = _failure_message(path, e)
                logger.error("failed: %s", failures[path])
                continue
            if results is not None and run is run_image:
                results.append(result)
    return failures


def main(args=None):
    """Returns the exit status; raises ToolError or FileNotFoundError when nothing can run."""
    parser = get_parser()
    args = parser.parse_args(args)
    setup_logger(name="goss")
    if not args.input and not args.video_input:
        parser.error("give --input and/or --video-input")
    cfg = get_goss_cfg(args.config_file, args.opts)
    check_dataset_metadata(cfg, cfg.DATASETS.TEST[:1])
    inputs = [(run_image, p, IMAGE_OUTPUTS) for p in expand_inputs(args.input or [])]
    if args.video_input:
        inputs.append((run_video, args.video_input, VIDEO_OUTPUTS))
    plans = plan_outputs([(path, patterns) for _, path, patterns in inputs], args.output)
    dataset_json = os.path.join(args.output, DATASET_JSON)
    if any(os.path.realpath(p) == os.path.realpath(dataset_json) for _, p, _ in inputs):
        raise ToolError(f"--input {dataset_json}: is the dataset JSON the demo writes")
    demo = GOSSDemo(cfg, allow_untrained=args.allow_untrained)
    os.makedirs(args.output, exist_ok=True)
    results = []
    jobs = [(run, path, outs) for (run, path, _), outs in zip(inputs, plans)]
    failures = run_all(demo, jobs, results)
    if results:
        write_dataset_json(demo, dataset_json, results)
    if failures:
        logger.error(
            "%d of %d inputs failed (the others were written to %s):\n  %s",
            len(failures),
            len(inputs),
            args.output,
            "\n  ".join(failures.values()),
        )
        return 1
    logger.info("wrote the outputs of %d inputs to %s", len(inputs), args.output)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ToolError, FileNotFoundError) as e:
        get_parser().exit(2, f"demo.py: error: {e}\n")
