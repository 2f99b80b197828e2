"""Shared helpers of the tests: small CPU configs of the GOSS model."""

from pathlib import Path

from detectron2.config import get_cfg
from goss import add_goss_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "projects" / "GOSS" / "configs"
SHARED = REPO.parent / "shared"


def small_goss_cfg(
    backbone="mobilenet_v2",
    num_known=3,
    train_mode="n_plus_one",
    identifier="n_plus_one",
    contrastive=True,
    weights="",
):
    """
    A small GOSS config for CPU tests: MobileNetV2 or a narrow ResNet-50, BN, no weights.
    """
    cfg = get_cfg()
    add_goss_config(cfg)
    base = "Base-GOSS-MobileNetV2.yaml" if backbone == "mobilenet_v2" else "Base-GOSS.yaml"
    cfg.merge_from_file(str(CONFIGS / base))
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = weights
    cfg.MODEL.RESNETS.NORM = "BN"
    cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
    cfg.MODEL.RESNETS.WIDTH_PER_GROUP = 16
    cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 16
    cfg.MODEL.SEM_SEG_HEAD.NORM = "BN"
    cfg.MODEL.SEM_SEG_HEAD.ASPP_CHANNELS = 32
    cfg.MODEL.SEM_SEG_HEAD.CONVS_DIM = 32
    cfg.MODEL.SEM_SEG_HEAD.PROJECT_CHANNELS = [16]
    cfg.MODEL.BPD_HEAD.CONVS_DIM = 16
    cfg.MODEL.CONTRASTIVE.PROJ_DIM = 16
    cfg.MODEL.GOSS.NUM_KNOWN_CLASSES = num_known
    cfg.MODEL.GOSS.TRAIN_MODE = train_mode
    cfg.MODEL.GOSS.IDENTIFIER = identifier
    cfg.MODEL.CONTRASTIVE.ENABLED = contrastive
    cfg.MODEL.CONTRASTIVE.MIN_PIXELS = 2
    return cfg


def require_op(name, available):
    """
    Skip the calling test if ``torch.ops.goss.<name>`` is not built (``available()`` is False),
    or fail it when ``GOSS_EXPECT_OPS=1`` (CI, ``make test``: the build is expected).
    """
    import os

    import pytest

    if available():
        return
    if os.environ.get("GOSS_EXPECT_OPS") == "1":
        pytest.fail(f"GOSS_EXPECT_OPS=1 but goss._C (with {name}) is not importable")
    pytest.skip(f"goss._C is not built (or predates {name})")


def require_joint_histogram():
    """:func:`require_op` for ``joint_histogram``."""
    from goss.layers.joint_histogram import joint_histogram_available

    require_op("joint_histogram", joint_histogram_available)


def load_tool(name):
    """Import ``tools/<name>.py`` as a module (tools are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"goss_tools_{name}", REPO / "tools" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tiny_goss_dataset(root, name, num_images=2, size=(64, 64), num_known=3):
    """
    Write a tiny GOSS dataset (images, train-id semantic PNGs, GOSS panoptic PNGs) under ``root``
    and register it as ``name`` with GOSS metadata. Known classes 0..N-1 fill rectangles; class N
    (unknown) appears as two touching squares in every image.

    Returns:
        list[dict]: the dataset dicts.
    """
    import numpy as np
    from PIL import Image

    from detectron2.data import DatasetCatalog, MetadataCatalog

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    records = []
    h, w = size
    for i in range(num_images):
        sem = np.zeros(size, dtype=np.uint8)
        sem[:, w // 3 :] = 1
        sem[h // 2 :, : w // 3] = 2 % num_known
        pan = sem.astype(np.int64) + 1  # segment id = class + 1 for known classes
        segments = [
            {"id": c + 1, "category_id": c, "area": int((sem == c).sum()), "iscrowd": 0}
            for c in np.unique(sem)
        ]
        for k, (y, x) in enumerate([(8, 30), (8, 42)]):  # two touching unknown squares
            pan[y : y + 12, x : x + 12] = 100 + k
            segments.append({"id": 100 + k, "category_id": num_known, "area": 0, "iscrowd": 0})
        for s in segments:
            s["area"] = int((pan == s["id"]).sum())
        sem_train = sem.copy()
        sem_train[pan >= 100] = 254  # UNKNOWN_LABEL: unknown classes in training PNGs
        image = (
            rng.randint(0, 40, size=(h, w, 3))
            + (sem[..., None] * 60)
            + (pan[..., None] >= 100) * 120
        )
        paths = {k: root / f"{i:03d}_{k}.png" for k in ("image", "sem", "pan")}
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(paths["image"])
        Image.fromarray(sem_train).save(paths["sem"])
        rgb = np.stack([pan % 256, pan // 256 % 256, pan // 65536], -1).astype(np.uint8)
        Image.fromarray(rgb).save(paths["pan"])
        records.append(
            {
                "file_name": str(paths["image"]),
                "image_id": i,
                "height": h,
                "width": w,
                "sem_seg_file_name": str(paths["sem"]),
                "pan_seg_file_name": str(paths["pan"]),
                "segments_info": segments,
            }
        )
    if name not in DatasetCatalog.list():
        DatasetCatalog.register(name, lambda: [dict(r) for r in records])
        MetadataCatalog.get(name).set(
            stuff_classes=[f"class{c}" for c in range(num_known)] + ["unknown"],
            stuff_colors=[[40 * c, 80, 200 - 40 * c] for c in range(num_known + 1)],
            ignore_label=255,
            label_divisor=1000,
            evaluator_type="goss",
            num_known_classes=num_known,
        )
    return records


def _png_chunk(kind, data):
    """A PNG chunk of type ``kind`` holding ``data``, with its checksum."""
    import struct
    import zlib

    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_broken_pngs(folder):
    """
    A valid PNG and three broken ones with its valid signature and header: ``truncated.png`` (cut
    in the pixel data), ``zeroed.png`` (pixel data overwritten with zeros, checksums not updated)
    and ``garbage.png`` (pixel data that is no zlib stream, with correct checksums).

    Returns:
        dict[str, Path]: ``ok``, ``truncated``, ``zeroed``, ``garbage``.
    """
    import numpy as np
    from PIL import Image

    rng = np.random.RandomState(0)
    paths = {k: folder / f"{k}.png" for k in ("ok", "truncated", "zeroed", "garbage")}
    Image.fromarray(rng.randint(0, 255, (32, 48, 3), dtype=np.uint8)).save(paths["ok"])
    data = paths["ok"].read_bytes()
    paths["truncated"].write_bytes(data[: len(data) // 2])
    zeroed = bytearray(data)
    zeroed[120:-20] = bytes(len(zeroed) - 140)
    paths["zeroed"].write_bytes(bytes(zeroed))
    header = data[:33]  # signature + IHDR
    garbage = _png_chunk(b"IDAT", b"\x78\x9c" + bytes(100)) + _png_chunk(b"IEND", b"")
    paths["garbage"].write_bytes(header + garbage)
    return paths
