"""The ``connected_components`` clusterer: one segment per 8-connected component of the mask."""

import numpy as np
import torch
from scipy import ndimage

from detectron2.config import configurable

from .build import register_clusterer

__all__ = ["ConnectedComponentsClusterer", "connected_components"]

_EIGHT = np.ones((3, 3), dtype=bool)


def connected_components(mask):
    """
    Args:
        mask (Tensor or ndarray): bool ``[H, W]``.
    Returns:
        Tensor: int64 ``[H, W]`` on the mask's device (CPU for an ndarray): components
        ``1..K`` in raster order of their first pixel, 0 outside the mask.
    """
    device = mask.device if isinstance(mask, torch.Tensor) else torch.device("cpu")
    array = mask.cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if array.ndim != 2:
        raise ValueError(f"connected_components: mask must be [H, W], got shape {array.shape}")
    labels, _ = ndimage.label(array.astype(bool), structure=_EIGHT)
    return torch.from_numpy(labels.astype(np.int64)).to(device)


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
