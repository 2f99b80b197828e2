"""The registry of unknown-pixel clusterers (``MODEL.GOSS.UNKNOWN_CLUSTERING``)."""

import torch

from detectron2.config import configurable
from detectron2.utils.registry import Registry

__all__ = [
    "UNKNOWN_CLUSTERER_REGISTRY",
    "MaskClusterer",
    "PartitionClusterer",
    "build_unknown_clusterer",
    "needed_branch",
    "reads_unknown_score",
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

Its `source` attribute names what `partition` reads: "bpd_field" (the BPD field of
`MODEL.GOSS.CLUSTERING_BRANCH "bpd"`), "dfc_response" (the `[q, H, W]` response of the DFC
branch, passed as `field`) or "image" (the `[3, H, W]` input image at output resolution). A
clusterer whose `source` is "unknown_score" has no partition and is called as
`clusterer(mask, field, unknown_score=score)` with the identifier's unknown score `[H, W]`.
"""

# clusterer source -> the clustering branch it needs (None: any)
_SOURCE_BRANCH = {"bpd_field": "bpd", "dfc_response": "dfc", "image": None, "unknown_score": None}


def needed_branch(clusterer):
    """The ``MODEL.GOSS.CLUSTERING_BRANCH`` a clusterer (class or object) reads, or None (any)."""
    return _SOURCE_BRANCH.get(getattr(clusterer, "source", None))


def reads_unknown_score(clusterer):
    """Whether ``clusterer`` is called with ``unknown_score=`` (its ``source``)."""
    return getattr(clusterer, "source", None) == "unknown_score"


class NoSettings:
    """Mixin of the clusterers without config keys: built from any config."""

    @configurable
    def __init__(self):
        pass

    @classmethod
    def from_config(cls, cfg):
        return {}


class MaskClusterer(NoSettings):
    """Base of the clusterers that read only the unknown mask (no settings, no BPD field)."""

    def __call__(self, unknown_mask, field=None):
        raise NotImplementedError


class PartitionClusterer:
    """
    Base of the clusterers that cut the unknown mask from a whole-image partition: unknown pixels
    that share a region form one segment. Subclasses set ``name``, ``source`` and
    :meth:`partition`.
    """

    name = None
    source = "bpd_field"

    def partition(self, source):
        """``source`` (see the registry) -> int32 ``[H, W]`` whole-image regions (ids >= 1)."""
        raise NotImplementedError

    def partition_key(self):
        """What :meth:`partition` depends on, hashable (calibration memoises partitions by it)."""
        return (type(self).__name__, tuple(sorted(getattr(self, "params", {}).items())))

    def resolve_partition(self, field=None, partition=None):
        """``partition`` if given, else :meth:`partition` of ``field`` (which is then needed)."""
        if partition is not None:
            return partition
        if field is None or self.source == "image":
            what = {"bpd_field": "BPD field", "dfc_response": "DFC response"}.get(self.source)
            raise ValueError(f"the {self.name} clusterer needs the {what or self.source}")
        return self.partition(field)

    def __call__(self, unknown_mask, field=None, partition=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
            field (Tensor or None): the clustering branch's map; not needed with ``partition``.
            partition (Tensor or None): the output of :meth:`partition`.
        Returns:
            Tensor: int64 ``[H, W]``: the region id of each unknown pixel, 0 elsewhere.
        """
        partition = self.resolve_partition(field, partition)
        return torch.where(unknown_mask, partition.to(unknown_mask.device).long(), 0)


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
    cls = UNKNOWN_CLUSTERER_REGISTRY.get(name)
    needs = needed_branch(cls)
    branch = cfg.MODEL.GOSS.CLUSTERING_BRANCH
    if needs is not None and branch != needs:
        raise ValueError(
            f"MODEL.GOSS.UNKNOWN_CLUSTERING {name!r} reads the {needs} clustering branch, but "
            f"MODEL.GOSS.CLUSTERING_BRANCH is {branch!r}"
        )
    return cls(cfg)
