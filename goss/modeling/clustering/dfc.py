"""The ``dfc`` clusterer: connected regions of the DFC head's argmax (the paper's Table 6)."""

import numpy as np
import torch
from skimage.measure import label

from .build import NoSettings, PartitionClusterer, register_clusterer

__all__ = ["DFCClusterer", "label_regions"]


def label_regions(labels):
    """
    Args:
        labels (Tensor): int ``[H, W]`` label map.
    Returns:
        Tensor: int32 ``[H, W]`` on the same device: one id ``1..K`` per 8-connected region of
        equal labels (two regions with the same label that do not touch get two ids).
    """
    array = labels.cpu().numpy().astype(np.int64) + 1  # 0 would be skimage's background
    regions = label(array, background=0, connectivity=2)
    return torch.from_numpy(regions.astype(np.int32)).to(labels.device)


@register_clusterer("dfc")
class DFCClusterer(NoSettings, PartitionClusterer):
    """
    The whole-image partition of the DFC branch (``MODEL.GOSS.CLUSTERING_BRANCH "dfc"``): each
    pixel's cluster is the argmax of its q responses, split into 8-connected regions (as
    Super-BPD's regions are connected); unknown pixels that share a region form one segment.
    """

    name = "dfc"
    source = "dfc_response"

    def partition(self, field):
        """
        Args:
            field (Tensor): float ``[q, H, W]`` DFC response (the clustering map of a DFC model).
        Returns:
            Tensor: int32 ``[H, W]`` regions (ids >= 1).
        """
        if field.dim() != 3:
            raise ValueError(
                f"the dfc clusterer needs a [q, H, W] response, got {tuple(field.shape)}"
            )
        return label_regions(field.argmax(dim=0))
