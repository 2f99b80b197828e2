"""Helpers shared by the tests of the compiled ops: skip without goss._C, the baseline SIMD kernels
in a child process, Super-BPD field builders and partition checks."""

import contextlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from goss.layers import ops_available

requires_ops = pytest.mark.skipif(not ops_available(), reason="goss._C is not built")
REPO = Path(__file__).resolve().parents[2]


def run_with_baseline_kernels(code, tmp_path, *args):
    """Run ``python -c code *args`` in ``tmp_path`` with ``ATEN_CPU_CAPABILITY=default``, which
    makes the compiled ops pick their baseline SIMD kernels (``goss/csrc/cpu_features.h``)."""
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default", PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``torch.set_num_threads(n)``, then restore the previous count."""
    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def deg_field(degrees):
    """float32 radians [H, W] tensor from degrees (as the test vectors of docs/super-bpd.md)."""
    return torch.from_numpy(np.radians(np.asarray(degrees, np.float64)).astype(np.float32))


def smooth_random_angles(h, w, seed, blur=2):
    """Angles of a blurred random Voronoi-like flux, float32 [H, W] in [0, 2*pi)."""
    rng = np.random.default_rng(seed)
    flux = rng.normal(size=(2, h, w))
    for _ in range(blur):
        flux = (flux + np.roll(flux, 1, 1) + np.roll(flux, 1, 2) + np.roll(flux, -1, 1)) / 4
    angles = np.arctan2(flux[1], flux[0]).astype(np.float32)
    angles[angles < 0] += np.float32(2 * math.pi)
    angles[angles >= np.float32(2 * math.pi)] = 0
    return torch.from_numpy(angles)


def partition(labels):
    """Canonical form of a label map: each pixel's region id by first occurrence."""
    _, first, inverse = np.unique(
        np.asarray(labels).ravel(), return_index=True, return_inverse=True
    )
    order = np.argsort(np.argsort(first))
    return order[inverse].reshape(np.asarray(labels).shape)


def refines(fine, coarse):
    """Whether every region of `fine` lies inside one region of `coarse`."""
    fine, coarse = np.asarray(fine).ravel(), np.asarray(coarse).ravel()
    pairs = np.unique(np.stack([fine, coarse], 1), axis=0)
    return len(np.unique(pairs[:, 0])) == len(pairs)


def voronoi_labels(h, w, n_regions, seed):
    """int64 [H, W] label map of a random Voronoi partition with n_regions cells."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform([0, 0], [h, w], size=(n_regions, 2))
    rows, cols = np.mgrid[:h, :w]
    dist = (rows[..., None] - centres[:, 0]) ** 2 + (cols[..., None] - centres[:, 1]) ** 2
    return dist.argmin(-1)


def noisy_gt_angles(h, w, n_regions, seed, noise=0.3):
    """Angles [H, W] of the exact BPD field of a Voronoi map, plus Gaussian noise, box-blurred."""
    from goss.data.bpd_targets import compute_bpd_targets

    field, _ = compute_bpd_targets(voronoi_labels(h, w, n_regions, seed))
    field = field / np.linalg.norm(field, axis=0, keepdims=True)
    field = field + np.random.default_rng(seed + 1).normal(scale=noise, size=field.shape)
    field = (field + np.roll(field, 1, 1) + np.roll(field, 1, 2)) / 3
    angles = np.arctan2(field[1], field[0]).astype(np.float32)
    angles[angles < 0] += np.float32(2 * math.pi)
    angles[angles >= np.float32(2 * math.pi)] = 0
    return torch.from_numpy(angles)
