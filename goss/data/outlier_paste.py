"""
Outlier exposure for N+1 training: random object silhouettes pasted into training crops as class
``N``, so that the model's extra class means "an object that is none of the known classes"
rather than only the source's void. An object is filled with a procedural texture
(``"synthetic"``), with a shifted, rescaled and re-lit patch of the same image (``"image"``: real
image statistics, so that only the object's shape and its mismatch with the surroundings tell it
apart; never pixels of an unknown class), or with either at random (``"mixed"``).
"""

import cv2
import numpy as np

from .goss_format import UNKNOWN_LABEL

__all__ = ["OutlierPaste", "image_texture", "random_object_mask", "random_texture"]

TEXTURES = ("synthetic", "image", "mixed")
SIZE_SAMPLINGS = ("uniform", "log_uniform")


def random_object_mask(rng, height, width, size):
    """
    A random object silhouette: a star-convex polygon or an ellipse, of about ``size`` pixels
    across, at a random place (it may leave the image).

    Returns:
        ndarray: bool ``[height, width]``.
    """
    mask = np.zeros((height, width), np.uint8)
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    aspect = np.exp(rng.uniform(-0.9, 0.9))  # tall (pedestrian-like) to wide (vehicle-like)
    ry, rx = size / 2 * np.sqrt(aspect), size / 2 / np.sqrt(aspect)
    if rng.random() < 0.3:
        angle = rng.uniform(0, 180)
        cv2.ellipse(
            mask, (int(cx), int(cy)), (max(int(rx), 1), max(int(ry), 1)), angle, 0, 360, 1, -1
        )
    else:
        n = int(rng.integers(5, 13))
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(0.45, 1.0, n)
        pts = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], 1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(bool)


def random_texture(rng, height, width):
    """
    A procedural texture: a solid colour, a gradient, stripes, a checkerboard or smooth noise
    between two random colours, with random brightness, shading and pixel noise.

    Returns:
        ndarray: float32 ``[height, width, 3]`` in 0..255.
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    kind = int(rng.integers(0, 5))
    if kind == 0:
        t = np.zeros((height, width), np.float32)
    elif kind == 1:
        a = rng.uniform(0, 2 * np.pi)
        t = np.cos(a) * xx + np.sin(a) * yy
        t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    elif kind == 2:
        a, period = rng.uniform(0, np.pi), rng.uniform(3, 16)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * (np.cos(a) * xx + np.sin(a) * yy) / period)
    elif kind == 3:
        cell = rng.uniform(3, 12)
        t = ((xx // cell + yy // cell) % 2).astype(np.float32)
    else:
        low = rng.random((max(height // 8, 2), max(width // 8, 2))).astype(np.float32)
        t = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    image = c0 + np.clip(t, 0, 1)[..., None] * (c1 - c0)
    # darker or brighter overall, lit from above or below
    shade = rng.uniform(0.3, 1.0) * (
        0.7 + 0.6 * (yy / max(height - 1, 1))[..., None] * rng.uniform(-0.5, 1)
    )
    image = image * shade + rng.normal(0, rng.uniform(0, 12), image.shape)
    return np.clip(image, 0, 255).astype(np.float32)


def image_texture(rng, image, sem_seg, mask, tries=10):
    """
    A texture for the object ``mask`` cut from ``image`` itself: the image rescaled by a random
    factor in [0.5, 2], mirrored at random, shifted by a random offset (reflecting at the
    borders) and re-lit by a random gain in [0.4, 1.2]. Offsets that would bring pixels of an
    unknown class (``UNKNOWN_LABEL`` in ``sem_seg``) under the mask are redrawn, so that class N
    never learns an unknown class's appearance.

    Args:
        image (ndarray): ``[H, W, 3]``, uint8 or float.
        sem_seg (ndarray): ``[H, W]`` labels of ``image``.
        mask (ndarray): bool ``[H, W]``, the object.
        tries (int): offsets to draw before giving up.
    Returns:
        ndarray or None: float32 ``[H, W, 3]`` in 0..255 (valid under ``mask``), or None when
        every offset tried met unknown pixels.
    """
    h, w = image.shape[:2]
    scale = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
    src = cv2.resize(np.ascontiguousarray(image, np.float32), size, interpolation=cv2.INTER_LINEAR)
    # dilated by a pixel: bilinear resizing blends the pixels next to an unknown object
    unknown = cv2.dilate(
        cv2.resize(
            (sem_seg == UNKNOWN_LABEL).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST
        ),
        np.ones((3, 3), np.uint8),
    )
    if rng.random() < 0.5:
        src, unknown = src[:, ::-1], unknown[:, ::-1]
    # reflect-pad so that any h x w window fits, then take one at a random offset
    src, unknown = (
        cv2.copyMakeBorder(np.ascontiguousarray(a), h, h, w, w, cv2.BORDER_REFLECT_101)
        for a in (src, unknown)
    )
    for _ in range(tries):
        y0 = int(rng.integers(0, src.shape[0] - h + 1))
        x0 = int(rng.integers(0, src.shape[1] - w + 1))
        if not unknown[y0 : y0 + h, x0 : x0 + w][mask].any():
            patch = src[y0 : y0 + h, x0 : x0 + w] * rng.uniform(0.4, 1.2)
            return np.clip(patch, 0, 255).astype(np.float32)
    return None


class OutlierPaste:
    """
    Pastes up to ``max_objects`` random textured objects into an augmented training image and
    writes ``label`` under them in its semantic map (``INPUT.OUTLIER_PASTE``).
    """

    def __init__(
        self,
        label,
        prob=0.5,
        max_objects=3,
        size_range=(0.1, 0.4),
        texture="synthetic",
        size_sampling="uniform",
    ):
        """
        Args:
            label (int): the semantic value of pasted pixels (class ``N``).
            prob (float): probability that an image gets any objects.
            max_objects (int): 1..max_objects objects per chosen image.
            size_range (tuple[float, float]): object size as a fraction of the shorter side.
            texture (str): what fills an object: "synthetic" (:func:`random_texture`), "image"
                (:func:`image_texture`) or "mixed" (either, with equal probability, per object).
            size_sampling (str): how a size is drawn from ``size_range``: "uniform", or
                "log_uniform" (as many objects between 1x and 2x the low end as between 2x and
                4x, ...: many small ones, as distant street objects are).
        """
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"INPUT.OUTLIER_PASTE.PROB must be in [0, 1], got {prob}")
        if max_objects < 1:
            raise ValueError(f"INPUT.OUTLIER_PASTE.MAX_OBJECTS must be >= 1, got {max_objects}")
        lo, hi = (float(v) for v in size_range)
        if not 0.0 < lo <= hi:
            raise ValueError(
                f"INPUT.OUTLIER_PASTE.SIZE_RANGE must be 0 < low <= high, got {size_range}"
            )
        if texture not in TEXTURES:
            raise ValueError(
                f"INPUT.OUTLIER_PASTE.TEXTURE must be one of {TEXTURES}, got {texture!r}"
            )
        if size_sampling not in SIZE_SAMPLINGS:
            raise ValueError(
                f"INPUT.OUTLIER_PASTE.SIZE_SAMPLING must be one of {SIZE_SAMPLINGS}, "
                f"got {size_sampling!r}"
            )
        self.texture = texture
        self.size_sampling = size_sampling
        self.label = int(label)
        self.prob = float(prob)
        self.max_objects = int(max_objects)
        self.size_range = (lo, hi)

    def __call__(self, image, sem_seg):
        """
        Args:
            image (ndarray): uint8 ``[H, W, 3]``.
            sem_seg (ndarray): uint8 ``[H, W]``, same size.
        Returns:
            (ndarray, ndarray): new image and semantic map (the inputs are not changed).
        """
        # numpy's global state, which Detectron2 seeds per data-loader worker (as its transforms)
        rng = np.random.default_rng(np.random.randint(2**31))
        if rng.random() >= self.prob:
            return image, sem_seg
        if image.shape[:2] != sem_seg.shape:
            raise ValueError(f"image {image.shape[:2]} and sem_seg {sem_seg.shape} differ in size")
        h, w = sem_seg.shape
        out, labels = image.astype(np.float32), sem_seg.copy()
        for _ in range(int(rng.integers(1, self.max_objects + 1))):
            size = self._size(rng) * min(h, w)
            mask = random_object_mask(rng, h, w, size)
            if not mask.any():
                continue
            out[mask] = self._texture(rng, image, sem_seg, mask)[mask]
            labels[mask] = self.label
        return np.clip(out, 0, 255).astype(np.uint8), labels

    def _size(self, rng):
        """An object size, as a fraction of the shorter side."""
        lo, hi = self.size_range
        if self.size_sampling == "log_uniform":
            return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        return float(rng.uniform(lo, hi))

    def _texture(self, rng, image, sem_seg, mask):
        kind = self.texture
        if kind == "mixed":
            kind = ("synthetic", "image")[int(rng.integers(0, 2))]
        texture = image_texture(rng, image, sem_seg, mask) if kind == "image" else None
        if texture is None:  # synthetic, or no patch of the image free of unknown pixels
            texture = random_texture(rng, *image.shape[:2])
        return texture
