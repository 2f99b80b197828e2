"""
``goss_shapes``: a small procedural GOSS dataset, generated on demand in seconds (seeded).

Each image has 2-4 regions of textured "stuff" (grass: green stripes, sand: yellow dots,
water: blue waves) and solid-coloured objects. Known objects: red circles, white squares, black
triangles. Training images also hold void clutter blobs (random non-red colours, label 255). Unknown
objects (orange stars, magenta crosses, cyan rings) appear only in validation images, often
touching each other, so separating them is the clustering branch's job.

The generator writes source images and source-id label PNGs, then the generic builder
(:func:`goss.data.builder.build_split`) writes the GOSS layout, exactly as for the real
benchmarks.
"""

import logging
import os
import shutil
import tempfile

import cv2
import numpy as np

from .builder import Sample, build_split
from .datasets.builtin_meta import (
    SHAPES_CLASSES,
    SHAPES_NUM_KNOWN,
    SHAPES_NUM_STUFF,
    UNKNOWN_COLOR,
    split_spec,
)
from .goss_format import IGNORE_LABEL, atomic_write_bytes, encode_png

__all__ = ["SHAPES_CLASSES", "build_goss_shapes", "ensure_goss_shapes", "goss_shapes_spec"]

logger = logging.getLogger(__name__)

NUM_STUFF, NUM_KNOWN = SHAPES_NUM_STUFF, SHAPES_NUM_KNOWN
# Void clutter: unlabelled blobs of random saturated colours (hue away from the red of the known
# circles), standing for the unlabelled objects that fill void in real data; an N+1 model learns
# from them that "some other object" is class N.
_CLUTTER_HUE_RANGE = (20.0, 340.0)


def _clutter_color(rng):
    """A random saturated RGB colour whose hue avoids red."""
    h = rng.uniform(*_CLUTTER_HUE_RANGE) / 60.0
    s, v = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
    x = v * s * (1 - abs(h % 2 - 1))
    c = v * s
    rgb = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h) % 6]
    return tuple(255 * (v - c + channel) for channel in rgb)


DATASET_DIR = "goss_shapes"
DEFAULTS = {"num_train": 200, "num_val": 50, "image_size": 128, "seed": 0}


def goss_shapes_spec(split):
    """The :class:`~goss.data.goss_format.SplitSpec` of ``goss_shapes`` ``train`` or ``val``."""
    return split_spec("goss_shapes", split)


def _stuff(rng, size):
    """Voronoi regions of textured stuff: image ``[S, S, 3]`` float, label ``[S, S]`` uint8."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    seeds = rng.uniform(0, size, size=(rng.integers(2, 5), 2))
    dist = (yy[None] - seeds[:, 0, None, None]) ** 2 + (xx[None] - seeds[:, 1, None, None]) ** 2
    classes = rng.integers(0, NUM_STUFF, size=len(seeds))
    label = classes[dist.argmin(0)].astype(np.uint8)
    k = 2 * np.pi / max(size / 16, 1.0)
    textures = [
        30 * np.sin(k * xx + rng.uniform(0, 6)),  # grass: vertical stripes
        40 * (rng.random((size, size)) < 0.08),  # sand: dots
        30 * np.sin(k * yy + 3 * np.sin(k * xx / 3)),  # water: waves
    ]
    image = np.zeros((size, size, 3), dtype=np.float32)
    for c in range(NUM_STUFF):
        m = label == c
        image[m] = np.asarray(SHAPES_CLASSES[c][1], np.float32) + textures[c][m][:, None]
    return image, label


def _shape_mask(kind, size, center, radius, angle):
    """uint8 ``[S, S]`` mask of one shape."""
    mask = np.zeros((size, size), np.uint8)
    cx, cy = center
    if kind in ("circle", "blob"):
        axes = (int(radius), int(radius * (0.6 if kind == "blob" else 1.0)))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, angle, 0, 360, 1, -1)
        return mask
    if kind == "ring":
        cv2.circle(mask, (int(cx), int(cy)), int(radius), 1, max(2, int(radius * 0.4)))
        return mask
    if kind == "square":
        t = np.deg2rad(angle) + np.arange(4) * np.pi / 2 + np.pi / 4
        pts = np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], 1)
    elif kind == "triangle":
        t = np.deg2rad(angle) + np.arange(3) * 2 * np.pi / 3
        pts = np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], 1)
    elif kind == "star":
        t = np.deg2rad(angle) + np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, radius, radius * 0.45)
        pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    elif kind == "cross":
        w = radius * 0.35
        base = np.array(
            [
                [-w, -radius],
                [w, -radius],
                [w, -w],
                [radius, -w],
                [radius, w],
                [w, w],
                [w, radius],
                [-w, radius],
                [-w, w],
                [-radius, w],
                [-radius, -w],
                [-w, -w],
            ]
        )
        a = np.deg2rad(angle)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        pts = base @ rot.T + np.array([cx, cy])
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask


def _paint(rng, image, label, kind, value, color, center, radius):
    mask = _shape_mask(kind, image.shape[0], center, radius, rng.uniform(0, 360)).astype(bool)
    noise = rng.normal(0, 6, size=(int(mask.sum()), 3))
    image[mask] = np.asarray(color, np.float32) + noise
    label[mask] = value


def render_sample(rng, size, split):
    """One image ``[S, S, 3]`` uint8 and its source-id label ``[S, S]`` uint8."""
    image, label = _stuff(rng, size)
    scale = size / 128.0
    for _ in range(rng.integers(1 if split == "train" else 0, 5)):
        c = int(rng.integers(NUM_STUFF, NUM_KNOWN))
        center = rng.uniform(0.1 * size, 0.9 * size, 2)
        _paint(
            rng,
            image,
            label,
            SHAPES_CLASSES[c][0],
            c,
            SHAPES_CLASSES[c][1],
            center,
            rng.uniform(8, 20) * scale,
        )
    if split == "train":
        for _ in range(rng.integers(0, 4)):
            center = rng.uniform(0.05 * size, 0.95 * size, 2)
            radius = rng.uniform(6, 14) * scale
            _paint(rng, image, label, "blob", IGNORE_LABEL, _clutter_color(rng), center, radius)
    else:
        center = rng.uniform(0.25 * size, 0.75 * size, 2)
        for _ in range(rng.integers(1, 5)):
            c = int(rng.integers(NUM_KNOWN, len(SHAPES_CLASSES)))
            radius = rng.uniform(9, 18) * scale
            _paint(rng, image, label, SHAPES_CLASSES[c][0], c, SHAPES_CLASSES[c][1], center, radius)
            if rng.random() < 0.6:  # the next one touches this one
                t = rng.uniform(0, 2 * np.pi)
                step = radius * rng.uniform(1.5, 1.9)
                center = np.clip(center + step * np.array([np.cos(t), np.sin(t)]), 0, size - 1)
            else:
                center = rng.uniform(0.15 * size, 0.85 * size, 2)
    return np.clip(image, 0, 255).astype(np.uint8), label


def _write_sources(root, split, count, size, seed):
    samples = []
    base = os.path.join(root, "source", split)
    for i in range(count):
        rng = np.random.default_rng([seed, 0 if split == "train" else 1, i])
        image, label = render_sample(rng, size, split)
        image_id = f"{split}_{i:05d}"
        img_path = os.path.join(base, "images", image_id + ".png")
        lab_path = os.path.join(base, "labels", image_id + ".png")
        atomic_write_bytes(img_path, encode_png(image))
        atomic_write_bytes(lab_path, encode_png(label))
        samples.append(Sample(image_id, img_path, lab_path))
    return samples


def build_goss_shapes(
    root, num_train=200, num_val=50, image_size=128, seed=0, workers=1, progress=False
):
    """
    Generate ``goss_shapes`` under the datasets root ``root`` (as the other builders do:
    ``<root>/goss_shapes/``): ``source/`` (generated images and source labels) and the GOSS
    splits ``train/`` and ``val/`` in the builder's layout. Same arguments -> same bytes.

    Returns:
        dict: split name -> builder manifest.
    """
    if num_train < 1 or num_val < 1 or image_size < 32:
        raise ValueError("goss_shapes needs num_train >= 1, num_val >= 1 and image_size >= 32")
    dataset_dir = os.path.join(root, DATASET_DIR)
    colors = [c for _, c in SHAPES_CLASSES[:NUM_KNOWN]] + [UNKNOWN_COLOR]
    manifests = {}
    for split, count in (("train", num_train), ("val", num_val)):
        samples = _write_sources(dataset_dir, split, count, image_size, seed)
        manifests[split] = build_split(
            samples,
            goss_shapes_spec(split),
            os.path.join(dataset_dir, split),
            workers=workers,
            image_mode="copy",
            colors=colors,
            progress=progress,
        )
    return manifests


def ensure_goss_shapes(root, **kwargs):
    """
    Generate ``<root>/goss_shapes`` if absent, atomically: built in a temporary directory under
    ``root`` and renamed into place (a concurrent process that loses the race discards its
    copy). A present but incomplete ``<root>/goss_shapes`` (an interrupted explicit build) is an
    error that says how to rebuild it.
    """
    dataset_dir = os.path.join(root, DATASET_DIR)
    done = [os.path.join(dataset_dir, s, "panoptic.json") for s in ("train", "val")]
    if all(os.path.exists(p) for p in done):
        return
    if os.path.exists(dataset_dir):
        if all(os.path.exists(p) for p in done):  # another process has just finished it
            return
        raise FileNotFoundError(
            f"{dataset_dir} exists but is incomplete; rebuild it with "
            f"`python datasets/prepare_goss_shapes.py --output {root}`"
        )
    os.makedirs(root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".goss_shapes-tmp-", dir=root)
    try:
        logger.info("Generating goss_shapes into %s", dataset_dir)
        build_goss_shapes(tmp, **{**DEFAULTS, **kwargs})
        try:
            os.rename(os.path.join(tmp, DATASET_DIR), dataset_dir)
        except OSError:
            if not all(os.path.exists(p) for p in done):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
