"""The clustering branch of GOSS: a head regressing the 2-channel BPD field (paper §4.1.3)."""

from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec
from detectron2.utils.registry import Registry

from ..layers.upsample_add import bilinear_upsample_add_, upsample_add_is_fast

__all__ = ["BPD_HEAD_REGISTRY", "build_bpd_head", "BPDHead"]

BPD_HEAD_REGISTRY = Registry("BPD_HEAD")
BPD_HEAD_REGISTRY.__doc__ = """
Registry for BPD heads, which predict the super-BPD direction field from backbone features.

The registered object is called with `obj(cfg, input_shape)` and must return a module whose
forward takes `dict[str, Tensor]` features and returns the field `[B, 2, H/s, W/s]`
(channel 0 = delta-row, channel 1 = delta-col), with `s` its `common_stride` attribute.
"""


def build_bpd_head(cfg, input_shape):
    """Build the BPD head named by ``cfg.MODEL.BPD_HEAD.NAME``."""
    return BPD_HEAD_REGISTRY.get(cfg.MODEL.BPD_HEAD.NAME)(cfg, input_shape)


@BPD_HEAD_REGISTRY.register()
class BPDHead(nn.Module):
    """
    The Super-BPD head (Wan et al. 2020) on ResNet-style features, as in the GOSS reference:
    parallel dilated 3x3 convs on the coarsest feature, 1x1 lateral convs on every feature, all
    brought to the finest stride, concatenated, and fused by three 1x1 convs to 2 channels.
    No normalisation (as the reference).
    """

    @configurable
    def __init__(
        self,
        input_shape: Dict[str, ShapeSpec],
        *,
        in_features: List[str],
        conv_dims: int,
        dilations: List[int],
    ):
        """
        Args:
            input_shape: shapes of the backbone features.
            in_features: features to use, coarsest first (e.g. ``["res4", "res3", "res2"]``).
            conv_dims: channels of the context and lateral branches.
            dilations: dilations of the parallel context convs on ``in_features[0]``.
        """
        super().__init__()
        missing = [f for f in in_features if f not in input_shape]
        if missing:
            raise ValueError(f"MODEL.BPD_HEAD.IN_FEATURES {missing} are not backbone outputs")
        self.in_features = list(in_features)
        self.finest = min(in_features, key=lambda f: input_shape[f].stride)
        self.common_stride = input_shape[self.finest].stride
        # the stride of each branch (the context branch, then one lateral per feature)
        self.branch_strides = [input_shape[f].stride for f in [in_features[0], *in_features]]
        coarse = input_shape[in_features[0]].channels
        ctx_dims = [conv_dims] * (len(dilations) - 1) + [conv_dims // 2]
        self.context = nn.ModuleList(
            Conv2d(coarse, d, 3, padding=r, dilation=r, activation=F.relu)
            for d, r in zip(ctx_dims, dilations)
        )
        self.context_fuse = Conv2d(sum(ctx_dims), conv_dims, 1, activation=F.relu)
        self.laterals = nn.ModuleList(
            Conv2d(input_shape[f].channels, conv_dims, 1, activation=F.relu) for f in in_features
        )
        fused = conv_dims * (len(in_features) + 1)
        self.predictor = nn.Sequential(
            Conv2d(fused, 2 * conv_dims, 1, activation=F.relu),
            Conv2d(2 * conv_dims, 2 * conv_dims, 1, activation=F.relu),
            Conv2d(2 * conv_dims, 2, 1),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001 if m.out_channels == 2 else 0.01)
                nn.init.zeros_(m.bias)

    @classmethod
    def from_config(cls, cfg, input_shape):
        return {
            "input_shape": input_shape,
            "in_features": cfg.MODEL.BPD_HEAD.IN_FEATURES,
            "conv_dims": cfg.MODEL.BPD_HEAD.CONVS_DIM,
            "dilations": cfg.MODEL.BPD_HEAD.DILATIONS,
        }

    def forward(self, features):
        """
        Args:
            features (dict[str, Tensor]): backbone features.
        Returns:
            Tensor: BPD field ``[B, 2, H / common_stride, W / common_stride]``.

        The first 1x1 conv of the predictor is applied to each branch at the branch's own
        resolution, before the bilinear upsampling, instead of to the concatenation of the
        upsampled branches: both are linear, so they commute, and this is the same function
        (the same weights; floating-point rounding aside) at about a third of the cost. Branches
        of one resolution go through that conv together (their channels concatenated), its bias
        is added once, on the finest branches, and the coarser terms are upsampled into them in
        place (:func:`bilinear_upsample_add_`). Without autograd, on the CPU, everything from the
        finest branches' lateral convs on is per pixel or an upsampling into rows, so it runs on
        bands of rows (the same output) whose ``2 * conv_dims``-channel intermediates stay in the
        cache: no full-resolution tensor of that width is written.
        """
        coarse = features[self.in_features[0]]
        context = torch.cat([_relu_conv(c, coarse) for c in self.context], dim=1)
        # each branch: its input, the lateral conv applied to it (None: already applied), its
        # columns of the first predictor conv
        first = self.predictor[0]
        inputs = [(_relu_conv(self.context_fuse, context), None)]
        inputs += [(features[f], lat) for f, lat in zip(self.in_features, self.laterals)]
        dims = [self.context_fuse.out_channels] + [lat.out_channels for lat in self.laterals]
        weights = first.weight.split(dims, dim=1)
        by_stride = {}
        for (x, lat), w, stride in zip(inputs, weights, self.branch_strides):
            by_stride.setdefault(stride, []).append((x, lat, w))
        finest = by_stride.pop(min(by_stride))
        # the coarser branches' terms of the first conv, at their own resolutions
        coarser = [_first_conv(g, 0, None) for _, g in sorted(by_stride.items())]
        height = finest[0][0].shape[-2]

        def predictor_input(start, stop):
            """Rows ``start:stop`` of the predictor's first conv with its ReLU."""
            x = _first_conv(finest, start, stop, first.bias)
            for term in coarser:
                x = bilinear_upsample_add_(x, term, rows=(start, height))
            return F.relu_(x)

        probe = finest[0][0]
        if torch.is_grad_enabled() or not all(upsample_add_is_fast(probe, t) for t in coarser):
            return self._tail(predictor_input(0, height))
        row_bytes = probe.shape[0] * first.out_channels * probe.shape[-1] * probe.element_size()
        rows = max(1, _BAND_BYTES // max(1, row_bytes))
        bands = [
            self._tail(predictor_input(y, min(y + rows, height))) for y in range(0, height, rows)
        ]
        return bands[0] if len(bands) == 1 else torch.cat(bands, dim=-2)

    def _tail(self, x):
        """The predictor after its first conv: ``[B, 2*conv_dims, h, w] -> [B, 2, h, w]``."""
        return self.predictor[2](_relu_conv(self.predictor[1], x))


# bytes of one band of rows of the predictor's input at inference (a few MB: the cache's scale)
_BAND_BYTES = 8 << 20


def _first_conv(branches, start, stop, bias=None):
    """
    The predictor's first conv on rows ``start:stop`` of branches of one resolution, given as
    ``(input, lateral conv or None, weight columns)``: their channels concatenated, one conv.
    ``stop`` None: all rows.
    """
    parts = [
        x[..., start:stop, :] if lat is None else _relu_conv(lat, x[..., start:stop, :])
        for x, lat, _ in branches
    ]
    b = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
    w = branches[0][2] if len(branches) == 1 else torch.cat([w for _, _, w in branches], dim=1)
    return F.conv2d(b, w, bias)


def _relu_conv(conv, x):
    """``relu(conv(x))`` for a Detectron2 ``Conv2d`` with a ReLU activation, the ReLU in place."""
    return F.relu_(F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation))
