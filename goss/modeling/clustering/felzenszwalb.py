"""
The ``felzenszwalb`` clusterer: Felzenszwalb-Huttenlocher graph segmentation of the image
(scikit-image's implementation), a classic training-free grouping of the unknown pixels.
"""

import numpy as np
import torch
from skimage.segmentation import felzenszwalb

from detectron2.config import configurable

from .build import PartitionClusterer, register_clusterer

__all__ = ["FelzenszwalbClusterer"]


@register_clusterer("felzenszwalb")
class FelzenszwalbClusterer(PartitionClusterer):
    """
    ``skimage.segmentation.felzenszwalb`` (Felzenszwalb & Huttenlocher, IJCV 2004) partitions the
    whole image from its colours; unknown pixels that share a segment form one segment. It reads
    the image, not the clustering branch.
    """

    name = "felzenszwalb"
    source = "image"

    @configurable
    def __init__(self, *, scale=300.0, sigma=0.8, min_size=50):
        """
        Args:
            scale (float): higher means larger segments (> 0).
            sigma (float): Gaussian pre-smoothing width (>= 0).
            min_size (int): the smallest segment in pixels.
        """
        if scale <= 0 or sigma < 0 or min_size < 1:
            raise ValueError(
                "MODEL.FELZENSZWALB needs SCALE > 0, SIGMA >= 0 and MIN_SIZE >= 1, got "
                f"{scale}, {sigma}, {min_size}"
            )
        self.params = {"scale": float(scale), "sigma": float(sigma), "min_size": int(min_size)}

    @classmethod
    def from_config(cls, cfg):
        f = cfg.MODEL.FELZENSZWALB
        return {"scale": f.SCALE, "sigma": f.SIGMA, "min_size": f.MIN_SIZE}

    def partition(self, image):
        """
        Args:
            image (Tensor): ``[3, H, W]`` (or ``[1, H, W]``) image, 0..255.
        Returns:
            Tensor: int32 ``[H, W]`` on the image's device: segments ``1..K``.
        """
        if image.dim() != 3:
            raise ValueError(f"felzenszwalb needs a [C, H, W] image, got {tuple(image.shape)}")
        array = image.detach().float().cpu().permute(1, 2, 0).numpy().astype(np.float64)
        segments = felzenszwalb(array, channel_axis=-1, **self.params)
        return torch.from_numpy(segments.astype(np.int32) + 1).to(image.device)
