"""The parent pass has a baseline (4-lane) and an AVX2 (8-lane) kernel, picked at run time;
PyTorch's ATEN_CPU_CAPABILITY=default selects the baseline one. Both must give the same output."""

import numpy as np
import torch

from goss.layers import super_bpd

from .common import noisy_gt_angles, requires_ops, run_with_baseline_kernels, smooth_random_angles

pytestmark = requires_ops

_CHILD = """
import sys
import numpy as np
import torch
from goss.layers import super_bpd
fields = np.load(sys.argv[1])
out = {}
for name in fields.files:
    x = torch.from_numpy(fields[name])
    for quirks in (False, True):
        r = super_bpd(x, reference_quirks=quirks, return_intermediates=True)
        for key, value in r.items():
            out[f"{name}/{quirks}/{key}"] = value.numpy()
np.savez(sys.argv[2], **out)
"""


def _fields():
    fields = {
        "gt": noisy_gt_angles(61, 83, 7, 2, noise=0.4),
        "smooth": smooth_random_angles(40, 37, 5, blur=2),
        "uniform": torch.from_numpy(
            np.random.default_rng(1).uniform(0, 2 * np.pi, (19, 45)).astype(np.float32)
        ),
    }
    # exact bin edges and the top of the range exercise the float tables in every lane
    edges = np.arange(8, dtype=np.float32) * np.float32(np.pi / 4) + np.float32(np.pi / 8)
    row = np.concatenate([edges, np.nextafter(edges, 0), [np.float32(2 * np.pi)], [0.0]])
    fields["edges"] = torch.from_numpy(np.tile(row.astype(np.float32), (9, 3)))
    return fields


def test_baseline_kernel_agrees(tmp_path):
    fields = _fields()
    np.savez(tmp_path / "fields.npz", **{k: v.numpy() for k, v in fields.items()})
    run_with_baseline_kernels(_CHILD, tmp_path, tmp_path / "fields.npz", tmp_path / "out.npz")
    child = np.load(tmp_path / "out.npz")
    for name, x in fields.items():
        for quirks in (False, True):
            ours = super_bpd(x, reference_quirks=quirks, return_intermediates=True)
            for key, value in ours.items():
                np.testing.assert_array_equal(
                    child[f"{name}/{quirks}/{key}"], value.numpy(), err_msg=f"{name} {key}"
                )
