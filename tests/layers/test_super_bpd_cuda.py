"""CPU/CUDA parity of the Super-BPD op (skips without a GPU or a CUDA build of goss._C)."""

import pytest
import torch

from goss.layers import load_ops, ops_available

from .cuda_parity import compare, parity_fields

pytestmark = pytest.mark.skipif(
    not (torch.cuda.is_available() and ops_available() and load_ops().has_cuda()),
    reason="needs a GPU and goss._C built with CUDA (FORCE_CUDA=1)",
)


@pytest.mark.parametrize("quirks", [False, True])
def test_cpu_cuda_identical(quirks):
    for name, angles in parity_fields(n_random=4):
        assert compare(angles, quirks) == [], name


def test_cuda_output_device_and_dtype():
    from goss.layers import super_bpd

    angles = parity_fields(n_random=1)[0][1].cuda()
    out = super_bpd(angles, return_intermediates=True)
    assert all(v.is_cuda and v.dtype == torch.int32 for v in out.values())
