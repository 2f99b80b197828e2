"""The registry of unknown-pixel clusterers (``MODEL.GOSS.UNKNOWN_CLUSTERING``)."""

from detectron2.config import configurable
from detectron2.utils.registry import Registry

__all__ = [
    "UNKNOWN_CLUSTERER_REGISTRY",
    "MaskClusterer",
    "build_unknown_clusterer",
    "register_clusterer",
]

UNKNOWN_CLUSTERER_REGISTRY = Registry("UNKNOWN_CLUSTERER")
UNKNOWN_CLUSTERER_REGISTRY.__doc__ = """
Registry for unknown clusterers, which group the identified unknown pixels of one image into
segments.

The registered object is called with `obj(cfg)` and returns a callable
`clusterer(unknown_mask, field=None) -> labels`: `unknown_mask` bool `[H, W]`, `field` the BPD
field `[2, H, W]` of the clustering branch (or None), `labels` int64 `[H, W]` on the mask's device,
`0` outside the mask and one positive id per segment inside it. A clusterer that cuts the mask
from a whole-image partition also has `partition(field)` (int `[H, W]`, used for GQ_clu and
computed once per image) and takes it as `clusterer(mask, field, partition=...)`.
"""


class MaskClusterer:
    """Base of the clusterers that read only the unknown mask (no settings, no BPD field)."""

    @configurable
    def __init__(self):
        pass

    @classmethod
    def from_config(cls, cfg):
        return {}

    def __call__(self, unknown_mask, field=None):
        raise NotImplementedError


def register_clusterer(name):
    """
    Class decorator: register a clusterer under the config name ``name`` (fvcore's
    ``Registry.register`` would use the class name, and config values are snake_case).
    """

    def deco(cls):
        UNKNOWN_CLUSTERER_REGISTRY._do_register(name, cls)
        return cls

    return deco


def build_unknown_clusterer(cfg):
    """Build the clusterer named by ``cfg.MODEL.GOSS.UNKNOWN_CLUSTERING``."""
    name = cfg.MODEL.GOSS.UNKNOWN_CLUSTERING
    if name not in UNKNOWN_CLUSTERER_REGISTRY:
        raise ValueError(
            f"MODEL.GOSS.UNKNOWN_CLUSTERING {name!r} is not a registered clusterer; choose one of "
            f"{sorted(k for k, _ in UNKNOWN_CLUSTERER_REGISTRY)}"
        )
    return UNKNOWN_CLUSTERER_REGISTRY.get(name)(cfg)
