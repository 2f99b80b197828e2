"""The ``none`` clusterer: all unknown pixels of an image form one segment (the OSS baseline)."""

from detectron2.config import configurable

from .build import register_clusterer

__all__ = ["OneSegmentClusterer"]


@register_clusterer("none")
class OneSegmentClusterer:
    """Labels every unknown pixel 1: one unknown segment per image."""

    needs_field = False

    @configurable
    def __init__(self):
        pass

    @classmethod
    def from_config(cls, cfg):
        return {}

    def __call__(self, unknown_mask, field=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
        Returns:
            Tensor: int64 ``[H, W]``, 1 on the mask, 0 elsewhere.
        """
        return unknown_mask.long()
