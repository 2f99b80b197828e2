"""
Conversion of one source semantic label map into the GOSS benchmark format, and the small I/O
helpers the builders share (atomic writes, checked PNG reads). The PNG id encoding itself lives
in :mod:`goss.utils.panoptic_ids`.

A source label map holds *source* class ids (COCO-Stuff ids, Cityscapes label ids, CamVid
values, ...). :class:`SplitSpec` says which source ids are known (in train-id order), unknown
and void. :func:`convert_label` turns a label map into

* the train-id semantic map: known ``0..N-1``, unknown and void ``255``;
* the GOSS ground truth: a panoptic id map (0 = void) with one segment per known class present
  and one segment per 8-connected component of each original unknown class (category ``N``).
"""

import dataclasses
import hashlib
import io
import json
import os
import secrets
from typing import Optional

import cv2
import numpy as np
from PIL import Image

__all__ = [
    "IGNORE_LABEL",
    "UNKNOWN_LABEL",
    "SplitSpec",
    "convert_label",
    "read_label_png",
    "atomic_write_bytes",
    "atomic_write_json",
    "encode_png",
    "goss_category",
    "image_size",
]

IGNORE_LABEL = 255
# sem_seg value of the pixels of the unknown classes. Every training mode ignores them: an N+1
# model learns class N from the source's own void (IGNORE_LABEL) only and never sees an unknown
# class, which is what the open-set protocol promises.
UNKNOWN_LABEL = 254
SELECTION_RULES = ("all", "no_unknown", "has_unknown")


@dataclasses.dataclass(frozen=True)
class SplitSpec:
    """
    What one GOSS split is, in the source's ids.

    Attributes:
        name (str): split name, e.g. ``"camvid_goss_8_3"``.
        known_ids (tuple[int]): source ids of the known classes; position = train id.
        known_names (tuple[str]): their names.
        unknown_ids (tuple[int]): source ids of the unknown classes (category ``N``).
        unknown_names (tuple[str]): their names.
        void_ids (tuple[int]): source values that are void (unlabelled, ignored classes).
        selection (str): ``"all"``, ``"no_unknown"`` (keep images without unknown pixels) or
            ``"has_unknown"`` (keep images with at least one unknown pixel).
        min_unknown_area (int): unknown components smaller than this become void in the GOSS
            ground truth (0 keeps all).
    """

    name: str
    known_ids: tuple
    known_names: tuple
    unknown_ids: tuple
    unknown_names: tuple
    void_ids: tuple = (IGNORE_LABEL,)
    selection: str = "all"
    min_unknown_area: int = 0

    def __post_init__(self):
        for field in ("known_ids", "known_names", "unknown_ids", "unknown_names", "void_ids"):
            object.__setattr__(self, field, tuple(getattr(self, field)))
        if len(self.known_ids) != len(self.known_names):
            raise ValueError(f"{self.name}: known_ids and known_names differ in length")
        if len(self.unknown_ids) != len(self.unknown_names):
            raise ValueError(f"{self.name}: unknown_ids and unknown_names differ in length")
        groups = (self.known_ids, self.unknown_ids, self.void_ids)
        all_ids = [int(i) for g in groups for i in g]
        if len(all_ids) != len(set(all_ids)):
            raise ValueError(f"{self.name}: a source id is in more than one of known/unknown/void")
        if any(i < 0 or i > 65535 for i in all_ids):
            raise ValueError(f"{self.name}: source ids must lie in 0..65535")
        if not 0 < len(self.known_ids) < UNKNOWN_LABEL:
            raise ValueError(f"{self.name}: need 1..253 known classes, got {len(self.known_ids)}")
        if self.selection not in SELECTION_RULES:
            raise ValueError(f"{self.name}: selection must be one of {SELECTION_RULES}")
        if self.min_unknown_area < 0:
            raise ValueError(f"{self.name}: min_unknown_area must be >= 0")

    @property
    def num_known(self) -> int:
        return len(self.known_ids)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """sha256 of the spec (a resumed build trusts only records with the same one)."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def lookup_table(self) -> np.ndarray:
        """``[65536]`` int32: train id (known), -2 (unknown), 255 (void), -1 (invalid)."""
        lut = np.full(65536, -1, dtype=np.int32)
        lut[list(self.void_ids)] = IGNORE_LABEL
        lut[list(self.unknown_ids)] = -2
        lut[list(self.known_ids)] = np.arange(self.num_known, dtype=np.int32)
        return lut


def convert_label(label: np.ndarray, spec: SplitSpec, lut: Optional[np.ndarray] = None, path=""):
    """
    Args:
        label (ndarray): ``[H, W]`` integer source ids.
        spec (SplitSpec): the split.
        lut (ndarray, optional): ``spec.lookup_table()`` (pass it to avoid rebuilding it).
        path (str): file the label came from, for error messages.
    Returns:
        dict with ``sem_seg`` (uint8 ``[H, W]`` train ids, ``UNKNOWN_LABEL`` 254 = unknown
        classes, ``IGNORE_LABEL`` 255 = void), ``panoptic``
        (int32 ``[H, W]`` segment ids, 0 = void), ``segments_info`` (list of ``id``,
        ``category_id`` (train id; unknown = N), ``area``, ``iscrowd``), ``known_pixels``
        (``[N]`` int64), ``unknown_pixels`` / ``unknown_segments`` (dict source id -> int),
        ``void_pixels`` (int).
    """
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f"{path}: label map must be 2-D, got shape {label.shape}")
    if not np.issubdtype(label.dtype, np.integer):
        raise ValueError(f"{path}: label map must hold integers, got {label.dtype}")
    if label.size and (label.min() < 0 or label.max() > 65535):
        raise ValueError(f"{path}: label values must lie in 0..65535 for {spec.name}")
    if lut is None:
        lut = spec.lookup_table()
    mapped = lut[label.astype(np.int64)]
    if (mapped == -1).any():
        bad = np.unique(label[mapped == -1]).tolist()
        raise ValueError(
            f"{path}: label values {bad[:10]} are not in the class table of {spec.name}"
        )
    n = spec.num_known
    known = mapped >= 0
    known &= mapped < n
    void_value = np.where(mapped == -2, UNKNOWN_LABEL, IGNORE_LABEL)
    sem_seg = np.where(known, mapped, void_value).astype(np.uint8)
    known_pixels = np.bincount(sem_seg[known], minlength=n).astype(np.int64)

    panoptic = np.where(known, sem_seg.astype(np.int32) + 1, 0).astype(np.int32)
    present = np.flatnonzero(known_pixels)
    segments = [
        {"id": int(c) + 1, "category_id": int(c), "area": int(known_pixels[c]), "iscrowd": 0}
        for c in present
    ]
    next_id = n + 1
    unknown_pixels, unknown_segments = {}, {}
    for src in spec.unknown_ids:
        mask = label == src
        count = int(mask.sum())
        if count == 0:
            continue
        unknown_pixels[int(src)] = count
        num, comp, stats, _ = cv2.connectedComponentsWithStats(
            mask.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S
        )
        kept = 0
        for k in range(1, num):
            area = int(stats[k, cv2.CC_STAT_AREA])
            if area < spec.min_unknown_area:
                continue
            panoptic[comp == k] = next_id
            segments.append({"id": next_id, "category_id": n, "area": area, "iscrowd": 0})
            next_id += 1
            kept += 1
        unknown_segments[int(src)] = kept
    void_pixels = int(label.size - known_pixels.sum() - sum(unknown_pixels.values()))
    return {
        "sem_seg": sem_seg,
        "panoptic": panoptic,
        "segments_info": segments,
        "known_pixels": known_pixels,
        "unknown_pixels": unknown_pixels,
        "unknown_segments": unknown_segments,
        "void_pixels": void_pixels,
    }


def goss_category(train_id: int, name: str, num_known: int) -> dict:
    """
    The COCO panoptic ``categories`` entry of a GOSS category: known train ids ``0..N-1`` are
    "stuff" (one segment per class), the unknown category ``N`` is a "thing" (one segment per
    object), as the GOSS ground truth has them.
    """
    unknown = int(train_id == num_known)
    return {"id": int(train_id), "name": name, "is_unknown": unknown, "isthing": unknown}


def read_label_png(data: bytes, path) -> np.ndarray:
    """Decode a single-channel (``L``, ``P``, ``I;16``, ``I``) label PNG; errors name ``path``."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.mode not in ("L", "P", "I;16", "I", "I;16B"):
                raise ValueError(f"mode {im.mode} is not a single-channel label image")
            return np.array(im)
    except ValueError as e:
        raise ValueError(f"{path}: cannot read label PNG: {e}") from e
    except Exception as e:  # PIL raises several types for corrupt files
        raise ValueError(f"{path}: cannot read label PNG: {e}") from e


def image_size(data: bytes, path):
    """Fully decode an image (catching corrupt files); returns ``(height, width)``."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return im.height, im.width
    except Exception as e:
        raise ValueError(f"{path}: cannot read image: {e}") from e


def encode_png(array: np.ndarray) -> bytes:
    """Lossless PNG bytes of a uint8 ``[H, W]`` or ``[H, W, 3]`` array (RGB order)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG")
    return buf.getvalue()


def atomic_write_bytes(path, data: bytes):
    """
    Write ``data`` to a temp file next to ``path`` and ``os.replace`` it into place. The file
    gets the permissions ``open()`` would give it (``0o666 & ~umask``), not mkstemp's 0600.
    """
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _create_temp(directory, name):
    """A new, uniquely named ``(fd, path)`` in ``directory``, created with mode 0o666 & ~umask."""
    while True:
        tmp = os.path.join(directory, f".tmp-{name}.{secrets.token_hex(4)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_json(path, obj):
    atomic_write_bytes(path, json.dumps(obj, sort_keys=True).encode())
