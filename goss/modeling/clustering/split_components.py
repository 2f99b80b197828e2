"""
The ``split_components`` clusterer: connected components of the unknown mask, split along the
Super-BPD regions of the clustering branch where both sides are large.
"""

import torch

from detectron2.config import configurable

from ...layers import connected_components
from .build import register_clusterer
from .super_bpd import SuperBPDClusterer

__all__ = ["SplitComponentsClusterer"]


@register_clusterer("split_components")
class SplitComponentsClusterer(SuperBPDClusterer):
    """
    Each 8-connected component of the identified unknown mask is cut by the whole-image Super-BPD
    partition into pieces; a piece of at least ``min_area`` pixels is its own segment, smaller
    pieces join the largest piece of their component. Touching unknown objects that the field
    separates become two segments; where the field merges everything (or is noisy and cuts a
    component into small pieces) the result falls back to the connected components.
    """

    @configurable
    def __init__(self, *, min_area=256, **super_bpd_params):
        """
        Args:
            min_area (int): the smallest piece that stays a segment of its own.
            super_bpd_params: ``theta_a``, ``theta_l``, ``theta_s``, ``s_o`` of Super-BPD.
        """
        super().__init__(**super_bpd_params)
        if min_area < 1:
            raise ValueError(f"MODEL.GOSS.SPLIT_MIN_AREA must be >= 1, got {min_area}")
        self.min_area = int(min_area)

    @classmethod
    def from_config(cls, cfg):
        return dict(SuperBPDClusterer.from_config(cfg), min_area=cfg.MODEL.GOSS.SPLIT_MIN_AREA)

    def __call__(self, unknown_mask, field=None, partition=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
            field (Tensor): float ``[2, H, W]``; not needed when ``partition`` is given.
            partition (Tensor or None): the output of :meth:`partition` for ``field``.
        Returns:
            Tensor: int64 ``[H, W]``: segment ids ``1..K``, 0 outside the mask.
        """
        out = torch.zeros(unknown_mask.shape, dtype=torch.int64, device=unknown_mask.device)
        if not bool(unknown_mask.any()):
            return out
        if partition is None:
            if field is None:
                raise ValueError("the split_components clusterer needs the BPD field")
            partition = self.partition(field)
        comps = connected_components(unknown_mask)[unknown_mask]
        regions = partition.to(unknown_mask.device).long()[unknown_mask]
        span = int(regions.max()) + 1
        pieces, inverse = torch.unique(comps * span + regions, return_inverse=True)
        areas = torch.bincount(inverse)
        comp_of = pieces // span
        # the largest piece of each component (the first on equal areas)
        order = torch.argsort(areas, descending=True, stable=True)
        order = order[torch.argsort(comp_of[order], stable=True)]
        first = torch.ones_like(order, dtype=torch.bool)
        first[1:] = comp_of[order][1:] != comp_of[order][:-1]
        largest = torch.zeros(int(comp_of.max()) + 1, dtype=torch.long, device=areas.device)
        largest[comp_of[order][first]] = order[first]
        target = torch.arange(len(pieces), device=areas.device)
        small = areas < self.min_area
        target[small] = largest[comp_of[small]]
        _, ids = torch.unique(target, return_inverse=True)
        out[unknown_mask] = ids[inverse] + 1
        return out
