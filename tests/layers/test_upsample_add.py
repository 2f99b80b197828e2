"""torch.ops.goss.bilinear_upsample_add_ (through goss.layers.upsample_add) against PyTorch."""

import pytest
import torch
import torch.nn.functional as F

from goss.layers.upsample_add import bilinear_upsample_add_, bilinear_upsample_add_available
from tests.common import require_op

from .common import run_with_baseline_kernels


def _expected(out, x):
    return out + F.interpolate(x, size=out.shape[-2:], mode="bilinear", align_corners=False)


@pytest.mark.parametrize("fmt", [torch.channels_last, torch.contiguous_format])
@pytest.mark.parametrize(
    "shape",
    [
        (2, 5, 7, 9, 28, 36),  # x4 exactly
        (1, 16, 23, 30, 90, 120),  # the R-50 head at 360x480: not a whole factor
        (2, 3, 45, 60, 90, 120),  # x2 exactly
        (1, 4, 10, 10, 5, 7),  # downsampling
        (1, 2, 1, 1, 3, 4),  # one input pixel
        (1, 3, 6, 8, 6, 8),  # the same size
    ],
)
def test_op_is_out_plus_pytorch_upsampling(shape, fmt):
    require_op("bilinear_upsample_add_", bilinear_upsample_add_available)
    b, c, h, w, H, W = shape
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, c, h, w, generator=g).contiguous(memory_format=fmt)
    out = torch.randn(b, c, H, W, generator=g).contiguous(memory_format=fmt)
    expected = _expected(out, x)
    got = torch.ops.goss.bilinear_upsample_add_(out, x)
    assert got.data_ptr() == out.data_ptr()  # in place
    assert torch.allclose(out, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("fmt", [torch.channels_last, torch.contiguous_format])
@pytest.mark.parametrize("fast", [True, False])
def test_bands_of_rows_add_those_rows_of_the_upsampling(fmt, fast):
    """``rows=(start, height)``: bands that do not divide the height (and one of a single row)
    get exactly their rows of the whole sum, with the op and with PyTorch's fallback."""
    if fast:
        require_op("bilinear_upsample_add_", bilinear_upsample_add_available)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 6, 23, 30, generator=g).contiguous(memory_format=fmt)
    out = torch.randn(2, 6, 90, 120, generator=g).contiguous(memory_format=fmt)
    expected = _expected(out, x)
    src = x if fast else x.clone().requires_grad_()  # autograd takes PyTorch's ops
    for start, stop in [(0, 37), (37, 38), (38, 90)]:
        band = out[:, :, start:stop].contiguous(memory_format=fmt)
        got = bilinear_upsample_add_(band, src, rows=(start, 90)).detach()
        assert got.shape == (2, 6, stop - start, 120)
        assert torch.allclose(got, expected[:, :, start:stop], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="rows"):
        bilinear_upsample_add_(out[:, :, :10], x, rows=(85, 90))


def test_face_reads_input_in_outs_memory_format():
    require_op("bilinear_upsample_add_", bilinear_upsample_add_available)
    x = torch.randn(1, 6, 5, 7)  # contiguous
    out = torch.randn(1, 6, 20, 28).contiguous(memory_format=torch.channels_last)
    expected = _expected(out, x)
    with torch.no_grad():
        bilinear_upsample_add_(out, x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(out, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("case", ["autograd", "float64", "strided"])
def test_face_falls_back_to_pytorch(case):
    """Autograd, another dtype or a non-contiguous out: PyTorch's sum (with gradients)."""
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64 if case == "float64" else torch.float32)
    out = torch.randn(2, 3, 11, 13, dtype=x.dtype)
    if case == "strided":
        out = torch.randn(2, 3, 11, 26, dtype=x.dtype)[..., ::2]
    x.requires_grad_(case == "autograd")
    expected = _expected(out, x)
    got = bilinear_upsample_add_(out.clone() if case == "autograd" else out, x)
    assert torch.allclose(got, expected, atol=1e-6, rtol=1e-6)
    if case == "autograd":
        (g,) = torch.autograd.grad(got.sum(), x)
        (g_ref,) = torch.autograd.grad(expected.sum(), x)
        assert torch.allclose(g, g_ref)


def test_face_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="must be"):
        bilinear_upsample_add_(torch.zeros(1, 3, 8, 8), torch.zeros(1, 4, 4, 4))
    with pytest.raises(ValueError, match="must be"):
        bilinear_upsample_add_(torch.zeros(3, 8, 8), torch.zeros(3, 4, 4))


def test_op_rejects_bad_input():
    require_op("bilinear_upsample_add_", bilinear_upsample_add_available)
    op = torch.ops.goss.bilinear_upsample_add_
    with pytest.raises(RuntimeError, match="float32"):
        op(torch.zeros(1, 2, 4, 4, dtype=torch.float64), torch.zeros(1, 2, 2, 2))
    with pytest.raises(RuntimeError, match="same batch and channels"):
        op(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match="contiguous"):
        op(torch.zeros(1, 2, 4, 8)[..., ::2], torch.zeros(1, 2, 2, 2))
    with pytest.raises(RuntimeError, match="full_height"):
        op(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 2, 2), 6, 8)


_CHILD = """
import sys
import torch
from goss.layers.upsample_add import bilinear_upsample_add_available
assert bilinear_upsample_add_available()
data = torch.load(sys.argv[1])
out = {}
for key, (o, x, start, height) in data.items():
    band = o.clone(memory_format=torch.preserve_format)
    torch.ops.goss.bilinear_upsample_add_(band, x, start, height)
    out[key] = band
torch.save(out, sys.argv[2])
"""


def test_baseline_kernels_agree(tmp_path):
    """The loops are compiled for the baseline and for AVX2 with FMA, picked at run time;
    ATEN_CPU_CAPABILITY=default (in a child process) selects the baseline: both give the
    upsampled sum, in either layout, for whole maps and for bands."""
    require_op("bilinear_upsample_add_", bilinear_upsample_add_available)
    g = torch.Generator().manual_seed(0)
    data = {}
    for fmt in (torch.channels_last, torch.contiguous_format):
        x = torch.randn(2, 20, 23, 30, generator=g).contiguous(memory_format=fmt)
        out = torch.randn(2, 20, 90, 120, generator=g).contiguous(memory_format=fmt)
        data[f"{fmt}/whole"] = (out, x, 0, 0)
        data[f"{fmt}/band"] = (out[:, :, 37:61].contiguous(memory_format=fmt), x, 37, 90)
    torch.save(data, tmp_path / "in.pt")
    run_with_baseline_kernels(_CHILD, tmp_path, tmp_path / "in.pt", tmp_path / "out.pt")
    child = torch.load(tmp_path / "out.pt")
    for key, (out, x, start, height) in data.items():
        full = F.interpolate(x, size=(height or out.shape[-2], out.shape[-1]), mode="bilinear")
        expected = out + full[:, :, start : start + out.shape[-2]]
        ours = torch.ops.goss.bilinear_upsample_add_(out.clone(), x, start, height)
        for name, got in (("baseline", child[key]), ("picked", ours)):
            assert torch.allclose(got, expected, atol=1e-5, rtol=1e-5), f"{key} {name}"
