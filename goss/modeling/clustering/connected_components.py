"""The ``connected_components`` clusterer: one segment per 8-connected component of the mask."""

from detectron2.config import configurable

from ...layers import connected_components
from .build import register_clusterer

__all__ = ["ConnectedComponentsClusterer"]


@register_clusterer("connected_components")
class ConnectedComponentsClusterer:
    """Each 8-connected component of the identified unknown mask is a segment."""

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
            Tensor: int64 ``[H, W]``: component ids, 0 outside the mask.
        """
        return connected_components(unknown_mask)
