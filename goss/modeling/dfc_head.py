"""
The DFC clustering branch (Kim, Kanezaki, Tanaka, "Unsupervised learning of image segmentation
based on differentiable feature clustering", IEEE TIP 2020): a head with q response channels
whose argmax gives the clusters, trained without cluster labels (:mod:`goss.modeling.dfc_loss`).
"""

from typing import Dict, List

import torch.nn as nn
import torch.nn.functional as F

from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from detectron2.utils.registry import Registry

__all__ = ["DFC_HEAD_REGISTRY", "DFCHead", "build_dfc_head"]

DFC_HEAD_REGISTRY = Registry("DFC_HEAD")
DFC_HEAD_REGISTRY.__doc__ = """
Registry for DFC heads, the clustering branch of ``MODEL.GOSS.CLUSTERING_BRANCH "dfc"``.

The registered object is called with `obj(cfg, input_shape)` and must return a module whose
forward takes `dict[str, Tensor]` features and returns the normalised response `[B, q, H/s, W/s]`
(the argmax over q is the cluster of a pixel), with `s` its `common_stride` attribute.
"""


def build_dfc_head(cfg, input_shape):
    """Build the DFC head named by ``cfg.MODEL.DFC_HEAD.NAME``."""
    return DFC_HEAD_REGISTRY.get(cfg.MODEL.DFC_HEAD.NAME)(cfg, input_shape)


@DFC_HEAD_REGISTRY.register()
class DFCHead(nn.Module):
    """
    DFC's network on backbone features: 1x1 laterals of ``in_features`` brought to the finest
    stride and summed, ``num_convs`` 3x3 conv-norm-ReLU layers (DFC's feature extractor), a 1x1
    conv to q channels and a BatchNorm of the response (DFC normalises the response before the
    argmax, so that no channel dominates from the start).
    """

    @configurable
    def __init__(
        self,
        input_shape: Dict[str, ShapeSpec],
        *,
        in_features: List[str],
        conv_dims: int,
        num_convs: int,
        num_channels: int,
        norm: str = "BN",
    ):
        """
        Args:
            input_shape: shapes of the backbone features.
            in_features: features to use.
            conv_dims: channels of the feature extractor.
            num_convs: its 3x3 layers (>= 1).
            num_channels: q, the response channels (>= 2).
            norm: normalisation of the convs (Detectron2's ``get_norm``).
        """
        super().__init__()
        missing = [f for f in in_features if f not in input_shape]
        if missing:
            raise ValueError(f"MODEL.DFC_HEAD.IN_FEATURES {missing} are not backbone outputs")
        if num_convs < 1:
            raise ValueError(f"MODEL.DFC_HEAD.NUM_CONVS must be >= 1, got {num_convs}")
        if num_channels < 2:
            raise ValueError(f"MODEL.DFC_HEAD.NUM_CHANNELS must be >= 2, got {num_channels}")
        self.in_features = list(in_features)
        self.finest = min(in_features, key=lambda f: input_shape[f].stride)
        self.common_stride = input_shape[self.finest].stride
        self.laterals = nn.ModuleList(
            Conv2d(
                input_shape[f].channels, conv_dims, 1, bias=not norm, norm=get_norm(norm, conv_dims)
            )
            for f in in_features
        )
        self.convs = nn.Sequential(
            *(
                Conv2d(
                    conv_dims,
                    conv_dims,
                    3,
                    padding=1,
                    bias=not norm,
                    norm=get_norm(norm, conv_dims),
                    activation=F.relu,
                )
                for _ in range(num_convs)
            )
        )
        self.response = nn.Conv2d(conv_dims, num_channels, 1)
        self.response_norm = nn.BatchNorm2d(num_channels)
        self.num_channels = num_channels

    @classmethod
    def from_config(cls, cfg, input_shape):
        h = cfg.MODEL.DFC_HEAD
        return {
            "input_shape": input_shape,
            "in_features": h.IN_FEATURES,
            "conv_dims": h.CONVS_DIM,
            "num_convs": h.NUM_CONVS,
            "num_channels": h.NUM_CHANNELS,
            "norm": h.NORM,
        }

    def forward(self, features):
        """
        Args:
            features (dict[str, Tensor]): backbone features.
        Returns:
            Tensor: normalised response ``[B, q, H / common_stride, W / common_stride]``.
        """
        size = features[self.finest].shape[-2:]
        x = 0
        for lateral, f in zip(self.laterals, self.in_features):
            y = lateral(features[f])
            if y.shape[-2:] != size:
                y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
            x = x + F.relu(y)
        return self.response_norm(self.response(self.convs(x)))
