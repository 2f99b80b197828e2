"""GOSS models: registered with Detectron2's registries on import."""

from .backbone import MobileNetV2Backbone, build_mobilenet_v2_backbone
from .bpd_head import BPD_HEAD_REGISTRY, BPDHead, build_bpd_head
from .clustering import UNKNOWN_CLUSTERER_REGISTRY, build_unknown_clusterer
from .identification import UnknownIdentifier
from .meta_arch import GOSS
from .postprocessing import GOSSFusion
from .sem_seg_head import GOSSSemSegHead

__all__ = [
    "BPD_HEAD_REGISTRY",
    "BPDHead",
    "GOSS",
    "GOSSFusion",
    "GOSSSemSegHead",
    "MobileNetV2Backbone",
    "UNKNOWN_CLUSTERER_REGISTRY",
    "UnknownIdentifier",
    "build_bpd_head",
    "build_unknown_clusterer",
    "build_mobilenet_v2_backbone",
]
