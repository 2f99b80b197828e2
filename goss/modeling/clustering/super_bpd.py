"""The ``super_bpd`` clusterer: the clustering branch's field partitioned by Super-BPD."""

import torch

from detectron2.config import configurable

from ...layers import super_bpd
from .build import register_clusterer

__all__ = ["SuperBPDClusterer"]


@register_clusterer("super_bpd")
class SuperBPDClusterer:
    """
    Super-BPD (:func:`goss.layers.super_bpd`) partitions the whole image from the predicted BPD
    field; unknown pixels that share a region form one segment (paper §4.1.3).
    """

    name = "super_bpd"

    @configurable
    def __init__(self, *, theta_a=45.0, theta_l=116.0, theta_s=68.0, s_o=5.0):
        """
        Args:
            theta_a, theta_l, theta_s, s_o (float): Super-BPD thresholds in degrees.
        """
        self.params = {"theta_a": theta_a, "theta_l": theta_l, "theta_s": theta_s, "s_o": s_o}

    @classmethod
    def from_config(cls, cfg):
        pp = cfg.MODEL.BPD_HEAD.POSTPROCESS
        return {"theta_a": pp.THETA_A, "theta_l": pp.THETA_L, "theta_s": pp.THETA_S, "s_o": pp.S_O}

    def partition(self, field):
        """
        Args:
            field (Tensor): float ``[2, H, W]`` BPD field (delta-row, delta-col).
        Returns:
            Tensor: int32 ``[H, W]`` whole-image Super-BPD regions (ids >= 1).
        """
        return super_bpd(field.float().contiguous(), **self.params)

    def resolve_partition(self, field=None, partition=None):
        """``partition`` if given, else :meth:`partition` of ``field`` (which is then needed)."""
        if partition is not None:
            return partition
        if field is None:
            raise ValueError(f"the {self.name} clusterer needs the BPD field")
        return self.partition(field)

    def __call__(self, unknown_mask, field=None, partition=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
            field (Tensor): float ``[2, H, W]``; not needed when ``partition`` is given.
            partition (Tensor or None): the output of :meth:`partition` for ``field``.
        Returns:
            Tensor: int64 ``[H, W]``: the region id of each unknown pixel, 0 elsewhere.
        """
        partition = self.resolve_partition(field, partition)
        return torch.where(unknown_mask, partition.long(), 0)
