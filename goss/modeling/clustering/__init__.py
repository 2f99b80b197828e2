"""Clusterers of identified unknown pixels, registered in ``UNKNOWN_CLUSTERER_REGISTRY``."""

from .build import (
    UNKNOWN_CLUSTERER_REGISTRY,
    MaskClusterer,
    PartitionClusterer,
    build_unknown_clusterer,
    needed_branch,
    reads_unknown_score,
    register_clusterer,
)
from .connected_components import ConnectedComponentsClusterer
from .dfc import DFCClusterer
from .felzenszwalb import FelzenszwalbClusterer
from .none import OneSegmentClusterer
from .seeded_components import SeededComponentsClusterer
from .split_components import SplitComponentsClusterer
from .super_bpd import SuperBPDClusterer

__all__ = [
    "UNKNOWN_CLUSTERER_REGISTRY",
    "ConnectedComponentsClusterer",
    "DFCClusterer",
    "FelzenszwalbClusterer",
    "MaskClusterer",
    "PartitionClusterer",
    "OneSegmentClusterer",
    "SeededComponentsClusterer",
    "SplitComponentsClusterer",
    "SuperBPDClusterer",
    "build_unknown_clusterer",
    "needed_branch",
    "reads_unknown_score",
    "register_clusterer",
]
