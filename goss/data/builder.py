"""
The generic GOSS benchmark builder: source images + source semantic labels + a
:class:`~goss.data.goss_format.SplitSpec` -> one GOSS split on disk.

Layout written under ``output_dir`` (one split)::

    images/<id><ext>          the image (symlink to the source, or a copy)
    sem_seg/<id>.png          train-id semantic map (known 0..N-1, unknown 254, void 255)
    panoptic/<id>.png         GOSS ground truth, id = R + 256 G + 256^2 B (0 = void)
    panoptic.json             COCO-panoptic-style: images, annotations, categories
    manifest.json             counts per class, kept/dropped images, checksums, builder version
    .records/<id>.json        per-image record, written after the PNGs (what a resume trusts)

Every file is written to a temp file and ``os.replace``-d into place, with the permissions
``open()`` gives (``0o666 & ~umask``). A resumed build trusts a record only if the spec
fingerprint, the builder version and the source checksums match, its outputs exist and its image
is what the requested ``image_mode`` places: a symlink to the sample's current source path, or a
copy with the source's checksum; any other image is built again (a changed image mode or moved
sources redo the affected images). ``panoptic.json`` and ``manifest.json`` are written last.
"""

import dataclasses
import hashlib
import json
import logging
import multiprocessing as mp
import os
import shutil
from typing import List, Optional, Sequence

from tqdm import tqdm

from goss.utils.panoptic_ids import id2rgb

from .goss_format import (
    SplitSpec,
    atomic_write_bytes,
    atomic_write_json,
    convert_label,
    encode_png,
    goss_category,
    image_size,
    read_label_png,
)

__all__ = ["BUILDER_VERSION", "Sample", "build_split", "category_list"]

logger = logging.getLogger(__name__)

BUILDER_VERSION = "goss-builder-2"  # 2: unknown pixels are 254 in sem_seg (void stays 255)
IMAGE_MODES = ("symlink", "copy")
_LUTS = {}  # per-process cache: spec fingerprint -> lookup table


@dataclasses.dataclass(frozen=True)
class Sample:
    """One source image: ``image_id`` (file stem, unique), its image and label files."""

    image_id: str
    image_path: str
    label_path: str


def category_list(spec: SplitSpec, colors: Optional[Sequence] = None) -> List[dict]:
    """The JSON ``categories``: known train ids ``0..N-1`` then ``{"id": N, "name": "unknown"}``."""
    n = spec.num_known
    cats = []
    for t, (src, name) in enumerate(zip(spec.known_ids, spec.known_names)):
        cats.append({**goss_category(t, name, n), "source_id": int(src)})
    cats.append(
        {**goss_category(n, "unknown", n), "source_ids": [int(i) for i in spec.unknown_ids]}
    )
    if colors is not None:
        for cat, color in zip(cats, colors):
            cat["color"] = [int(c) for c in color]
    return cats


def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise FileNotFoundError(f"{path}: cannot read {what}: {e}") from e


def _paths(output_dir, sample):
    ext = os.path.splitext(sample.image_path)[1].lower() or ".png"
    return {
        "image": os.path.join(output_dir, "images", sample.image_id + ext),
        "sem_seg": os.path.join(output_dir, "sem_seg", sample.image_id + ".png"),
        "panoptic": os.path.join(output_dir, "panoptic", sample.image_id + ".png"),
        "record": os.path.join(output_dir, ".records", sample.image_id + ".json"),
    }


def _place_image(src, dst, mode):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = os.path.join(os.path.dirname(dst), ".tmp-" + os.path.basename(dst))
    if os.path.lexists(tmp):
        os.unlink(tmp)
    if mode == "symlink":
        os.symlink(os.path.abspath(src), tmp)
    else:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _image_in_place(dst, src, mode, sha256):
    """Whether ``dst`` is what ``_place_image(src, dst, mode)`` makes (a link to or copy of src)."""
    if mode == "symlink":
        return os.path.islink(dst) and os.readlink(dst) == os.path.abspath(src)
    if os.path.islink(dst) or not os.path.isfile(dst):
        return False
    with open(dst, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest() == sha256


def _trusted_record(paths, fingerprint, checksums, sample, image_mode):
    """The existing record if a resumed build may keep it, else None."""
    try:
        with open(paths["record"]) as f:
            rec = json.load(f)
    except (OSError, ValueError):
        return None
    if rec.get("fingerprint") != fingerprint or rec.get("source_sha256") != checksums:
        return None
    if rec.get("status") == "kept" and not (
        rec.get("image_mode") == image_mode
        and os.path.lexists(paths["sem_seg"])
        and os.path.lexists(paths["panoptic"])
        and _image_in_place(paths["image"], sample.image_path, image_mode, checksums["image"])
    ):
        return None
    return rec


def _keep(spec, converted):
    has_unknown = bool(converted["unknown_pixels"])
    if spec.selection == "no_unknown" and has_unknown:
        return "contains unknown pixels"
    if spec.selection == "has_unknown" and not has_unknown:
        return "no unknown pixels"
    return None


def _process(args):
    """Worker: one sample -> its record (writes the PNGs, then the record)."""
    sample, spec, output_dir, image_mode, fingerprint = args
    image_bytes = _read(sample.image_path, "image")
    label_bytes = _read(sample.label_path, "label")
    checksums = {
        "image": hashlib.sha256(image_bytes).hexdigest(),
        "label": hashlib.sha256(label_bytes).hexdigest(),
    }
    paths = _paths(output_dir, sample)
    rec = _trusted_record(paths, fingerprint, checksums, sample, image_mode)
    if rec is not None:
        return rec
    # outputs are about to change: a record of an earlier run must not vouch for them
    if os.path.lexists(paths["record"]):
        os.unlink(paths["record"])
    height, width = image_size(image_bytes, sample.image_path)
    label = read_label_png(label_bytes, sample.label_path)
    if label.shape != (height, width):
        raise ValueError(
            f"{sample.label_path}: label size {label.shape[::-1]} (w, h) does not match image "
            f"size {(width, height)} of {sample.image_path}"
        )
    if fingerprint not in _LUTS:
        _LUTS[fingerprint] = spec.lookup_table()
    conv = convert_label(label, spec, _LUTS[fingerprint], sample.label_path)
    reason = _keep(spec, conv)
    rec = {
        "image_id": sample.image_id,
        "status": "kept" if reason is None else "dropped",
        "reason": reason,
        "height": int(height),
        "width": int(width),
        "known_pixels": conv["known_pixels"].tolist(),
        "unknown_pixels": {str(k): v for k, v in conv["unknown_pixels"].items()},
        "unknown_segments": {str(k): v for k, v in conv["unknown_segments"].items()},
        "void_pixels": conv["void_pixels"],
        "source_sha256": checksums,
        "source_paths": {
            "image": os.path.abspath(sample.image_path),
            "label": os.path.abspath(sample.label_path),
        },
        "image_mode": image_mode,
        "fingerprint": fingerprint,
    }
    if reason is None:
        _place_image(sample.image_path, paths["image"], image_mode)
        atomic_write_bytes(paths["sem_seg"], encode_png(conv["sem_seg"]))
        atomic_write_bytes(paths["panoptic"], encode_png(id2rgb(conv["panoptic"])))
        rel = {k: os.path.relpath(paths[k], output_dir) for k in ("image", "sem_seg", "panoptic")}
        rec.update(files=rel, segments_info=conv["segments_info"])
    else:  # kept by an earlier build from other sources: not part of this split any more
        for key in ("image", "sem_seg", "panoptic"):
            if os.path.lexists(paths[key]):
                os.unlink(paths[key])
    atomic_write_json(paths["record"], rec)
    return rec


def _previous_manifest(output_dir):
    """The ``manifest.json`` of an earlier build of ``output_dir`` ({} if none or unreadable)."""
    try:
        with open(os.path.join(output_dir, "manifest.json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _manifest(spec, records, fingerprint, image_mode):
    n = spec.num_known
    kept = [r for r in records if r["status"] == "kept"]
    reasons = {}
    for r in records:
        if r["status"] == "dropped":
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    known = []
    for t in range(n):
        pix = [r["known_pixels"][t] for r in kept]
        known.append(
            {
                "train_id": t,
                "name": spec.known_names[t],
                "source_id": int(spec.known_ids[t]),
                "pixels": int(sum(pix)),
                "images": int(sum(p > 0 for p in pix)),
            }
        )
    unknown = []
    for src, name in zip(spec.unknown_ids, spec.unknown_names):
        key = str(int(src))
        unknown.append(
            {
                "source_id": int(src),
                "name": name,
                "pixels": int(sum(r["unknown_pixels"].get(key, 0) for r in kept)),
                "images": int(sum(key in r["unknown_pixels"] for r in kept)),
                "segments": int(sum(r["unknown_segments"].get(key, 0) for r in kept)),
            }
        )
    digest = hashlib.sha256()
    for r in sorted(records, key=lambda r: r["image_id"]):
        s = r["source_sha256"]
        digest.update(f"{r['image_id']} {s['image']} {s['label']}\n".encode())
    return {
        "builder_version": BUILDER_VERSION,
        "split": spec.name,
        "spec": spec.to_dict(),
        "spec_fingerprint": fingerprint,
        "num_images": len(records),
        "num_kept": len(kept),
        "num_dropped": len(records) - len(kept),
        "dropped_reasons": reasons,
        "dropped_images": sorted(r["image_id"] for r in records if r["status"] == "dropped"),
        "known_classes": known,
        "unknown_classes": unknown,
        "void_pixels": int(sum(r["void_pixels"] for r in kept)),
        "unknown_segments": int(sum(sum(r["unknown_segments"].values()) for r in kept)),
        "sources_sha256": digest.hexdigest(),
        "image_mode": image_mode,
        "source_dirs": {
            key: sorted({os.path.dirname(r["source_paths"][key]) for r in records})
            for key in ("image", "label")
        },
    }


def build_split(
    samples: Sequence[Sample],
    spec: SplitSpec,
    output_dir,
    *,
    workers: int = 1,
    image_mode: str = "symlink",
    colors: Optional[Sequence] = None,
    progress: bool = True,
):
    """
    Build one GOSS split (see the module docstring for the layout). Resumable: records of an
    earlier, interrupted run with the same spec, sources (checksums, and paths for symlinked
    images) and image mode are reused; the other images are built again.

    Args:
        samples (list[Sample]): the source images, in output order; ``image_id`` unique.
        spec (SplitSpec): classes and image-selection rule.
        output_dir (str): the split's directory.
        workers (int): processes (``<= 1``: in this process).
        image_mode (str): ``"symlink"`` (to the source, absolute) or ``"copy"``.
        colors (list, optional): ``N + 1`` RGB colours stored in ``categories``.
        progress (bool): show a tqdm bar.
    Returns:
        dict: the manifest (also written to ``manifest.json``).
    """
    if image_mode not in IMAGE_MODES:
        raise ValueError(f"image_mode must be one of {IMAGE_MODES}, got {image_mode!r}")
    ids = [s.image_id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{spec.name}: duplicate image ids among the samples")
    if not samples:
        raise ValueError(f"{spec.name}: no samples to build")
    output_dir = os.fspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    fingerprint = hashlib.sha256(f"{BUILDER_VERSION} {spec.fingerprint()}".encode()).hexdigest()
    previous = _previous_manifest(output_dir).get("image_mode", image_mode)
    if previous != image_mode:
        logger.warning(
            "%s: the last build used --image-mode %s; every kept image is built again as %s",
            output_dir,
            previous,
            image_mode,
        )
    jobs = [(s, spec, output_dir, image_mode, fingerprint) for s in samples]
    bar = tqdm(total=len(jobs), desc=spec.name, disable=not progress, unit="img")
    records = []
    if workers <= 1:
        for job in jobs:
            records.append(_process(job))
            bar.update(1)
    else:
        with mp.get_context("fork").Pool(workers) as pool:
            for rec in pool.imap(
                _process, jobs, chunksize=max(1, min(16, len(jobs) // (4 * workers)))
            ):
                records.append(rec)
                bar.update(1)
    bar.close()

    kept = [r for r in records if r["status"] == "kept"]
    dataset = {
        "info": {"description": f"GOSS split {spec.name}", "builder_version": BUILDER_VERSION},
        "images": [
            {
                "id": r["image_id"],
                "file_name": os.path.basename(r["files"]["image"]),
                "height": r["height"],
                "width": r["width"],
            }
            for r in kept
        ],
        "annotations": [
            {
                "image_id": r["image_id"],
                "file_name": os.path.basename(r["files"]["panoptic"]),
                "segments_info": r["segments_info"],
            }
            for r in kept
        ],
        "categories": category_list(spec, colors),
    }
    atomic_write_json(os.path.join(output_dir, "panoptic.json"), dataset)
    manifest = _manifest(spec, records, fingerprint, image_mode)
    atomic_write_json(os.path.join(output_dir, "manifest.json"), manifest)
    logger.info(
        "%s: %d images kept, %d dropped %s -> %s",
        spec.name,
        manifest["num_kept"],
        manifest["num_dropped"],
        manifest["dropped_reasons"],
        output_dir,
    )
    return manifest
