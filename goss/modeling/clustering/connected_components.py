"""The ``connected_components`` clusterer: one segment per 8-connected component of the mask."""

from ...layers import connected_components
from .build import MaskClusterer, register_clusterer

__all__ = ["ConnectedComponentsClusterer"]


@register_clusterer("connected_components")
class ConnectedComponentsClusterer(MaskClusterer):
    """Each 8-connected component of the identified unknown mask is a segment."""

    def __call__(self, unknown_mask, field=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
        Returns:
            Tensor: int64 ``[H, W]``: component ids ``1..K``, 0 outside the mask.
        """
        return connected_components(unknown_mask)
