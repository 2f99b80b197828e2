"""
The ``seeded_components`` clusterer: the unknown mask split along the valleys of the unknown score,
grown from its most confidently unknown pixels.
"""

import numpy as np
import torch
from skimage.segmentation import watershed

from detectron2.config import configurable

from ...layers import connected_components
from .build import register_clusterer

__all__ = ["SeededComponentsClusterer"]


@register_clusterer("seeded_components")
class SeededComponentsClusterer:
    """
    Seeds are the 8-connected components (of at least ``min_area`` pixels) of the unknown pixels
    whose unknown score is at or above the ``quantile`` of the image's unknown pixels' scores;
    every unknown pixel joins the seed that a watershed flood of the score, from high to low,
    reaches first within the mask. A component of the mask without a seed is one segment. Two
    objects joined by a band of less confident unknown pixels (the identification spilling over
    the ground between them) become two segments, split where the score is lowest; ``quantile``
    0 gives the connected components of the mask. The quantile is of the score's rank, so the
    same setting holds for every identifier's score scale (and any confidence adjustment).
    """

    name = "seeded_components"
    source = "unknown_score"

    @configurable
    def __init__(self, *, quantile=0.5, min_area=16):
        """
        Args:
            quantile (float): in [0, 1): the share of the image's unknown pixels, the least
                confident, that are no seed.
            min_area (int): the smallest seed (smaller seed components are no seeds).
        """
        if not 0.0 <= quantile < 1.0:
            raise ValueError(f"MODEL.GOSS.SEED_QUANTILE must be in [0, 1), got {quantile}")
        if min_area < 1:
            raise ValueError(f"MODEL.GOSS.SEED_MIN_AREA must be >= 1, got {min_area}")
        self.quantile = float(quantile)
        self.min_area = int(min_area)

    @classmethod
    def from_config(cls, cfg):
        g = cfg.MODEL.GOSS
        return {"quantile": g.SEED_QUANTILE, "min_area": g.SEED_MIN_AREA}

    def __call__(self, unknown_mask, field=None, unknown_score=None):
        """
        Args:
            unknown_mask (Tensor): bool ``[H, W]``.
            field: unused (the clustering branch's map).
            unknown_score (Tensor): float ``[H, W]``, higher = more unknown (the identifier's).
        Returns:
            Tensor: int64 ``[H, W]`` on the mask's device: segment ids ``1..K``, 0 outside the
            mask.
        """
        if unknown_score is None:
            raise ValueError("the seeded_components clusterer needs the unknown score")
        if unknown_score.shape != unknown_mask.shape:
            raise ValueError(
                f"unknown_score {tuple(unknown_score.shape)} and unknown_mask "
                f"{tuple(unknown_mask.shape)} differ in shape"
            )
        device = unknown_mask.device
        mask = unknown_mask.cpu().numpy().astype(bool)
        if not mask.any():
            return torch.zeros(mask.shape, dtype=torch.int64, device=device)
        score = unknown_score.detach().float().cpu().numpy()
        level = np.quantile(score[mask], self.quantile)
        seeds = connected_components(mask & (score >= level)).numpy()
        area = np.bincount(seeds.ravel())
        seeds[area[seeds] < self.min_area] = 0
        # a component of the mask without a seed is a seed of its own, as a whole
        comps = connected_components(mask).numpy()
        seeded = np.zeros(int(comps.max()) + 1, dtype=bool)
        seeded[comps[seeds > 0]] = True
        lone = mask & ~seeded[comps]
        markers = np.where(lone, comps + int(seeds.max()), seeds)
        labels = watershed(-score, markers, mask=mask, connectivity=2)
        # consecutive ids 1..K
        _, ids = np.unique(labels, return_inverse=True)
        ids = ids.reshape(labels.shape)
        out = np.where(mask, ids + (0 if (labels == 0).any() else 1), 0)
        return torch.from_numpy(out.astype(np.int64)).to(device)
