"""Clusterers of identified unknown pixels, registered in ``UNKNOWN_CLUSTERER_REGISTRY``."""

from .build import (
    UNKNOWN_CLUSTERER_REGISTRY,
    MaskClusterer,
    build_unknown_clusterer,
    register_clusterer,
)
from .connected_components import ConnectedComponentsClusterer
from .none import OneSegmentClusterer
from .super_bpd import SuperBPDClusterer

__all__ = [
    "UNKNOWN_CLUSTERER_REGISTRY",
    "ConnectedComponentsClusterer",
    "MaskClusterer",
    "OneSegmentClusterer",
    "SuperBPDClusterer",
    "build_unknown_clusterer",
    "register_clusterer",
]
