"""The ``super_bpd`` clusterer: the clustering branch's field partitioned by Super-BPD."""

import math

from torchvision.transforms.functional import gaussian_blur

from detectron2.config import configurable

from ...layers import super_bpd
from .build import PartitionClusterer, register_clusterer

__all__ = ["SuperBPDClusterer"]


@register_clusterer("super_bpd")
class SuperBPDClusterer(PartitionClusterer):
    """
    Super-BPD (:func:`goss.layers.super_bpd`) partitions the whole image from the predicted BPD
    field; unknown pixels that share a region form one segment (paper §4.1.3). With
    ``field_sigma`` > 0 the field is first smoothed by a Gaussian of that standard deviation.
    """

    name = "super_bpd"
    source = "bpd_field"

    @configurable
    def __init__(self, *, theta_a=45.0, theta_l=116.0, theta_s=68.0, s_o=5.0, field_sigma=0.0):
        """
        Args:
            theta_a, theta_l, theta_s, s_o (float): Super-BPD thresholds in degrees.
            field_sigma (float): the field's smoothing in pixels (0: none).
        """
        if field_sigma < 0:
            raise ValueError(
                f"MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA must be >= 0, got {field_sigma}"
            )
        self.params = {"theta_a": theta_a, "theta_l": theta_l, "theta_s": theta_s, "s_o": s_o}
        self.field_sigma = float(field_sigma)

    @classmethod
    def from_config(cls, cfg):
        pp = cfg.MODEL.BPD_HEAD.POSTPROCESS
        return {
            "theta_a": pp.THETA_A,
            "theta_l": pp.THETA_L,
            "theta_s": pp.THETA_S,
            "s_o": pp.S_O,
            "field_sigma": pp.FIELD_SIGMA,
        }

    def partition_key(self):
        return (*super().partition_key(), self.field_sigma)

    def partition(self, field):
        """
        Args:
            field (Tensor): float ``[2, H, W]`` BPD field (delta-row, delta-col).
        Returns:
            Tensor: int32 ``[H, W]`` whole-image Super-BPD regions (ids >= 1).
        """
        field = field.float()
        if self.field_sigma > 0:
            radius = max(1, int(math.ceil(3.0 * self.field_sigma)))
            side = 2 * radius + 1
            field = gaussian_blur(field[None], [side, side], [self.field_sigma] * 2)[0]
        return super_bpd(field.contiguous(), **self.params)
