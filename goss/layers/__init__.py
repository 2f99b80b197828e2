"""Python faces of GOSS's compiled ops, and connected-component labelling."""

from .connected_components import connected_components
from .ext import load_ops, ops_available
from .joint_histogram import joint_histogram
from .super_bpd import flux_to_angles, super_bpd
from .upsample_add import bilinear_upsample_add_

__all__ = [
    "connected_components",
    "load_ops",
    "ops_available",
    "super_bpd",
    "flux_to_angles",
    "joint_histogram",
    "bilinear_upsample_add_",
]
