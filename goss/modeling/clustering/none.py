"""The ``none`` clusterer: all unknown pixels of an image form one segment (the OSS baseline)."""

from .build import MaskClusterer, register_clusterer

__all__ = ["OneSegmentClusterer"]


@register_clusterer("none")
class OneSegmentClusterer(MaskClusterer):
    """Labels every unknown pixel 1: one unknown segment per image."""

    def __call__(self, unknown_mask, field=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
        Returns:
            Tensor: int64 ``[H, W]``, 1 on the mask, 0 elsewhere.
        """
        return unknown_mask.long()
