"""Small on-disk fixtures in the sources' formats for the builder tests."""

import os
import zlib

import numpy as np
from PIL import Image

from goss.data.builder import Sample


def write_sample(root, image_id, label, image_ext=".png", image_size=None):
    """Write a random RGB image and ``label`` (uint8 ``[H, W]``); returns the Sample."""
    label = np.asarray(label, dtype=np.uint8)
    h, w = image_size if image_size is not None else label.shape
    rng = np.random.default_rng(zlib.crc32(image_id.encode()))
    img_dir, lab_dir = os.path.join(root, "images"), os.path.join(root, "labels")
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(lab_dir, exist_ok=True)
    img_path = os.path.join(img_dir, image_id + image_ext)
    lab_path = os.path.join(lab_dir, image_id + ".png")
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(img_path)
    Image.fromarray(label).save(lab_path)
    return Sample(image_id, img_path, lab_path)
