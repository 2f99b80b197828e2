"""The BPD head: its factorised first predictor conv computes the reference's function."""

import pytest
import torch
import torch.nn.functional as F

from detectron2.layers import ShapeSpec
from goss.modeling.bpd_head import BPDHead


def _reference_forward(head, features):
    """The head as the reference writes it: upsample every branch, concatenate, then 1x1 convs."""
    size = features[head.finest].shape[-2:]

    def up(t):
        return F.interpolate(t, size=size, mode="bilinear", align_corners=False)

    coarse = features[head.in_features[0]]
    branches = [up(head.context_fuse(torch.cat([c(coarse) for c in head.context], dim=1)))]
    branches += [up(lat(features[f])) for lat, f in zip(head.laterals, head.in_features)]
    return head.predictor(torch.cat(branches, dim=1))


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("image", [(64, 96), (61, 83)])
def test_factorised_head_is_the_reference_function(image, channels_last):
    """Same output and gradients as the reference (the in-place ReLUs and sums keep autograd's
    saved tensors intact), in either memory format."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(0)
    shapes = {
        "res2": ShapeSpec(channels=6, stride=4),
        "res3": ShapeSpec(channels=5, stride=8),
        "res4": ShapeSpec(channels=7, stride=16),
    }
    head = BPDHead(shapes, in_features=["res4", "res3", "res2"], conv_dims=8, dilations=[1, 2])
    for m in head.modules():  # weights large enough that every term matters
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=0.3)
            torch.nn.init.normal_(m.bias, std=0.3)
    head.to(memory_format=fmt)
    h, w = image
    feats = {
        k: torch.randn(2, s.channels, -(-h // s.stride), -(-w // s.stride))
        .contiguous(memory_format=fmt)
        .requires_grad_()
        for k, s in shapes.items()
    }
    out = head(feats)
    ref = _reference_forward(head, feats)
    assert out.shape == ref.shape == (2, 2, -(-h // 4), -(-w // 4))
    assert torch.allclose(out, ref, atol=1e-5, rtol=1e-4)
    wrt = [feats["res4"], feats["res2"], head.predictor[0].weight, head.context[1].weight]
    g_out = torch.autograd.grad(out.square().sum(), wrt)
    g_ref = torch.autograd.grad(ref.square().sum(), wrt)
    for a, b in zip(g_out, g_ref):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_head_keeps_its_parameter_names():
    shapes = {f"res{i}": ShapeSpec(channels=4, stride=2**i) for i in (2, 3, 4)}
    head = BPDHead(shapes, in_features=["res4", "res3", "res2"], conv_dims=4, dilations=[2, 4])
    names = {k.rsplit(".", 1)[0] for k in head.state_dict()}
    assert names == {
        "context.0", "context.1", "context_fuse", "laterals.0", "laterals.1", "laterals.2",
        "predictor.0", "predictor.1", "predictor.2",
    }  # fmt: skip


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("band_bytes", [1, 4100, 1 << 30])
def test_inference_in_bands_of_rows_is_the_same_function(monkeypatch, band_bytes, channels_last):
    """Without autograd the head from the finest laterals on runs on bands of rows (one row,
    several rows that do not divide the height, the whole map), in either memory format: the
    same output as with autograd."""
    import goss.modeling.bpd_head as bpd_head

    torch.manual_seed(0)
    shapes = {f"res{i}": ShapeSpec(channels=5, stride=2**i) for i in (2, 3, 4)}
    head = BPDHead(shapes, in_features=["res4", "res3", "res2"], conv_dims=4, dilations=[1, 2])
    for p in head.parameters():
        torch.nn.init.normal_(p, std=0.3)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    head.to(memory_format=fmt)
    feats = {
        k: torch.randn(2, 5, -(-61 // s.stride), -(-83 // s.stride)).contiguous(memory_format=fmt)
        for k, s in shapes.items()
    }
    whole = head(feats).detach()
    monkeypatch.setattr(bpd_head, "_BAND_BYTES", band_bytes)
    with torch.no_grad():
        banded = head(feats)
    assert banded.shape == whole.shape == (2, 2, 16, 21)
    assert torch.allclose(banded, whole, atol=1e-6, rtol=1e-5)
