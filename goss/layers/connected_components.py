"""8-connected component labelling of a mask (SciPy), for tensors and arrays alike."""

import numpy as np
import torch
from scipy import ndimage

__all__ = ["connected_components"]

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
