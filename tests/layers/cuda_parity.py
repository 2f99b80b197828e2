"""
CPU/CUDA parity of ``torch.ops.goss.super_bpd``, usable without importing ``goss`` (so it also
runs on a GPU machine that has torch but not Detectron2):

    FORCE_CUDA=1 python3 setup.py build_ext --inplace && python3 tests/layers/cuda_parity.py

The pytest face is ``test_super_bpd_cuda.py``.
"""

import glob
import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
DEMO = Path(
    os.environ.get(
        "GOSS_SUPERBPD_DEMO", REPO / ".." / "shared" / "data" / "superbpd_demo" / "2009_004607.mat"
    )
)
OUTPUTS = ("roots", "before_dilation", "after_dilation", "labels")


def load_op():
    """Register torch.ops.goss.super_bpd from goss/_C*.so if it is not registered yet."""
    if not hasattr(torch.ops.goss, "super_bpd"):
        torch.ops.load_library(sorted(glob.glob(str(REPO / "goss" / "_C*.so")))[0])
    return torch.ops.goss.super_bpd


def _bpd_targets_module():
    spec = importlib.util.spec_from_file_location("bpd_targets", REPO / "goss/data/bpd_targets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parity_fields(n_random=12):
    """(name, float32 angles [H, W]) pairs: noisy ground-truth Voronoi fields and the demo."""
    compute = _bpd_targets_module().compute_bpd_targets
    fields = []
    for seed in range(n_random):
        rng = np.random.default_rng(seed)
        h, w = [(96, 128), (333, 500), (61, 257), (512, 1024)][seed % 4]
        centres = rng.uniform([0, 0], [h, w], size=(5 + seed, 2))
        rows, cols = np.mgrid[:h, :w]
        dist = (rows[..., None] - centres[:, 0]) ** 2 + (cols[..., None] - centres[:, 1]) ** 2
        field, _ = compute(dist.argmin(-1))
        field = field / np.linalg.norm(field, axis=0) + rng.normal(scale=0.4, size=field.shape)
        angles = np.arctan2(field[1], field[0]).astype(np.float32)
        angles[angles < 0] += np.float32(2 * math.pi)
        angles[angles >= np.float32(2 * math.pi)] = 0
        fields.append((f"voronoi{seed}_{h}x{w}", torch.from_numpy(angles)))
    if DEMO.is_file():
        import scipy.io

        flux = torch.from_numpy(scipy.io.loadmat(str(DEMO))["flux"].astype(np.float32))
        angles = torch.atan2(flux[1], flux[0])
        fields.append(("demo", torch.where(angles < 0, angles + 2 * math.pi, angles).contiguous()))
    return fields


def compare(angles, quirks, params=(45.0, 116.0, 68.0, 5.0)):
    """Names of the outputs that differ between the CPU and the CUDA op (empty: identical)."""
    op = load_op()
    cpu = op(angles, *params, quirks)
    cuda = op(angles.cuda(), *params, quirks)
    return [k for k, a, b in zip(OUTPUTS, cpu, cuda) if not torch.equal(a, b.cpu())]


def main():
    results = {}
    for name, angles in parity_fields():
        for quirks in (False, True):
            results[f"{name}/quirks={quirks}"] = compare(angles, quirks) or "identical"
    print(json.dumps(results, indent=1))
    return 0 if all(v == "identical" for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
