"""A MobileNetV2 backbone for Detectron2, for CPU and offline users."""

import torch.nn as nn
from torchvision.models import mobilenet_v2

from detectron2.config import configurable
from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY, Backbone

__all__ = ["MobileNetV2Backbone", "build_mobilenet_v2_backbone"]

# Feature name -> (index of the last torchvision `features` block of that stage, stride, channels).
_STAGES = {
    "res2": (3, 4, 24),
    "res3": (6, 8, 32),
    "res4": (13, 16, 96),
    "res5": (17, 32, 320),
}


class MobileNetV2Backbone(Backbone):
    """
    MobileNetV2 (Sandler et al. 2018) as a Detectron2 backbone, built on torchvision's layer
    layout (so ``features.*`` keys of torchvision checkpoints load as ``features.*``).
    Outputs the ends of the stride-4/8/16/32 stages as ``res2``..``res5``.
    """

    @configurable
    def __init__(self, *, out_features, output_stride=32, freeze_at=0):
        """
        Args:
            out_features (list[str]): subset of ``res2``..``res5`` to return.
            output_stride (int): 32, or 16 to replace the stride of ``res5`` with dilation 2.
            freeze_at (int): 0 trains everything; k > 0 freezes the stem and the first k-1 stages.
        """
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"MOBILENET_V2.OUTPUT_STRIDE must be 16 or 32, got {output_stride}")
        unknown = set(out_features) - set(_STAGES)
        if unknown:
            raise ValueError(f"unknown MobileNetV2 out_features {sorted(unknown)}")
        self.features = mobilenet_v2().features[: _STAGES["res5"][0] + 1]
        self._out_features = list(out_features)
        self._out_feature_strides = {k: v[1] for k, v in _STAGES.items()}
        self._out_feature_channels = {k: v[2] for k, v in _STAGES.items()}
        if output_stride == 16:
            self._dilate_last_stage()
        self._freeze(freeze_at)

    @classmethod
    def from_config(cls, cfg, input_shape):
        return {
            "out_features": cfg.MODEL.MOBILENET_V2.OUT_FEATURES,
            "output_stride": cfg.MODEL.MOBILENET_V2.OUTPUT_STRIDE,
            "freeze_at": cfg.MODEL.BACKBONE.FREEZE_AT,
        }

    def _dilate_last_stage(self):
        for block in self.features[_STAGES["res4"][0] + 1 :]:
            for m in block.modules():
                if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
                    m.stride, m.dilation, m.padding = (1, 1), (2, 2), (2, 2)
        self._out_feature_strides["res5"] = 16

    def _freeze(self, freeze_at):
        stage_ends = [0] + [v[0] for v in _STAGES.values()]
        if freeze_at <= 0:
            return
        last = stage_ends[min(freeze_at - 1, len(stage_ends) - 1)]
        for block in self.features[: last + 1]:
            for p in block.parameters():
                p.requires_grad = False

    def forward(self, x):
        """
        Args:
            x (Tensor): images ``[B, 3, H, W]``.
        Returns:
            dict[str, Tensor]: ``{name: [B, C_name, H / stride, W / stride]}``.
        """
        outputs = {}
        ends = {v[0]: k for k, v in _STAGES.items()}
        for i, block in enumerate(self.features):
            x = block(x)
            if i in ends and ends[i] in self._out_features:
                outputs[ends[i]] = x
        return outputs

    def output_shape(self):
        return {
            name: ShapeSpec(
                channels=self._out_feature_channels[name], stride=self._out_feature_strides[name]
            )
            for name in self._out_features
        }


@BACKBONE_REGISTRY.register()
def build_mobilenet_v2_backbone(cfg, input_shape):
    """Build a :class:`MobileNetV2Backbone` from ``cfg.MODEL.MOBILENET_V2``."""
    return MobileNetV2Backbone(cfg, input_shape)
