"""Backbones GOSS adds to Detectron2's BACKBONE_REGISTRY."""

from . import imagenet_weights  # noqa: F401  (registers the goss:// weights path handler)
from .mobilenet_v2 import MobileNetV2Backbone, build_mobilenet_v2_backbone

__all__ = ["MobileNetV2Backbone", "build_mobilenet_v2_backbone"]
