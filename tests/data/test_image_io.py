"""Corrupt and truncated images fail with the file's name instead of reading as black pixels."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from goss.data import GOSSDatasetMapper
from tests.common import small_goss_cfg


def _chunk(kind, data):
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
    rng = np.random.RandomState(0)
    paths = {k: folder / f"{k}.png" for k in ("ok", "truncated", "zeroed", "garbage")}
    Image.fromarray(rng.randint(0, 255, (32, 48, 3), dtype=np.uint8)).save(paths["ok"])
    data = paths["ok"].read_bytes()
    paths["truncated"].write_bytes(data[: len(data) // 2])
    zeroed = bytearray(data)
    zeroed[120:-20] = bytes(len(zeroed) - 140)
    paths["zeroed"].write_bytes(bytes(zeroed))
    header = data[:33]  # signature + IHDR
    garbage = _chunk(b"IDAT", b"\x78\x9c" + bytes(100)) + _chunk(b"IEND", b"")
    paths["garbage"].write_bytes(header + garbage)
    return paths


@pytest.mark.parametrize("kind", ["truncated", "zeroed", "garbage"])
def test_mapper_refuses_a_broken_png(tmp_path, kind):
    paths = write_broken_pngs(tmp_path)
    mapper = GOSSDatasetMapper(small_goss_cfg(), is_train=False)
    assert mapper({"file_name": str(paths["ok"])})["image"].shape[0] == 3
    with pytest.raises(ValueError, match=f"cannot read image .*{kind}.png"):
        mapper({"file_name": str(paths[kind])})
