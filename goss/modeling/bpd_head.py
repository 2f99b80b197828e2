"""The clustering branch of GOSS: a head regressing the 2-channel BPD field (paper §4.1.3)."""

from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec
from detectron2.utils.registry import Registry

from ..layers.upsample_add import bilinear_upsample_add_

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
        is added once, on the finest branch, and the coarser contributions are upsampled into it in
        place (:func:`bilinear_upsample_add_`, one pass over it on the CPU), so that few
        full-resolution ``2 * conv_dims``-channel tensors are written.
        """
        coarse = features[self.in_features[0]]
        context = torch.cat([_relu_conv(c, coarse) for c in self.context], dim=1)
        branches = [_relu_conv(self.context_fuse, context)]
        branches += [
            _relu_conv(lat, features[f]) for lat, f in zip(self.laterals, self.in_features)
        ]
        first = self.predictor[0]
        weights = first.weight.split([b.shape[1] for b in branches], dim=1)
        by_stride = {}
        for b, w, stride in zip(branches, weights, self.branch_strides):
            by_stride.setdefault(stride, []).append((b, w))
        x = None
        for stride in sorted(by_stride):  # the finest first
            b, w = (t[0] if len(t) == 1 else torch.cat(t, dim=1) for t in zip(*by_stride[stride]))
            if x is None:
                x = F.conv2d(b, w, first.bias)
            else:
                x = bilinear_upsample_add_(x, F.conv2d(b, w))
        x = F.relu_(x)
        if torch.is_grad_enabled():
            return self._tail(x)
        # inference: the last two 1x1 convs are per pixel, so bands of rows give the same output
        # and keep the band's 2*conv_dims-channel intermediate in the cache
        rows = max(1, _BAND_BYTES // max(1, x[:, :, :1].numel() * x.element_size()))
        if rows >= x.shape[-2]:
            return self._tail(x)
        return torch.cat([self._tail(band) for band in x.split(rows, dim=-2)], dim=-2)

    def _tail(self, x):
        """The predictor after its first conv: ``[B, 2*conv_dims, h, w] -> [B, 2, h, w]``."""
        return self.predictor[2](_relu_conv(self.predictor[1], x))


# bytes of one band of rows of the predictor's input at inference (a few MB: the cache's scale)
_BAND_BYTES = 8 << 20


def _relu_conv(conv, x):
    """``relu(conv(x))`` for a Detectron2 ``Conv2d`` with a ReLU activation, the ReLU in place."""
    return F.relu_(F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation))
