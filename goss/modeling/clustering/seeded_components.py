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

    With ``scope="component"`` the quantile is taken over each connected component of the mask
    instead of the whole image: a component whose pixels are all less confident than the
    image's others still gets seeds of its own, so objects joined within it can be split too.
    """

    name = "seeded_components"
    source = "unknown_score"

    SCOPES = ("image", "component")

    @configurable
    def __init__(self, *, quantile=0.5, min_area=16, scope="image"):
        """
        Args:
            quantile (float): in [0, 1): the share of the image's unknown pixels, the least
                confident, that are no seed.
            min_area (int): the smallest seed (smaller seed components are no seeds).
            scope (str): "image" or "component": what the quantile is taken over.
        """
        if not 0.0 <= quantile < 1.0:
            raise ValueError(f"MODEL.GOSS.SEED_QUANTILE must be in [0, 1), got {quantile}")
        if min_area < 1:
            raise ValueError(f"MODEL.GOSS.SEED_MIN_AREA must be >= 1, got {min_area}")
        if scope not in self.SCOPES:
            raise ValueError(f"MODEL.GOSS.SEED_SCOPE must be one of {self.SCOPES}, got {scope!r}")
        self.quantile = float(quantile)
        self.min_area = int(min_area)
        self.scope = scope

    @classmethod
    def from_config(cls, cfg):
        g = cfg.MODEL.GOSS
        return {"quantile": g.SEED_QUANTILE, "min_area": g.SEED_MIN_AREA, "scope": g.SEED_SCOPE}

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
        comps = connected_components(mask).numpy()
        if self.scope == "image":
            level = np.quantile(score[mask], self.quantile)
        else:
            level = np.zeros(score.shape, score.dtype)
            level[mask] = _component_quantiles(comps[mask], score[mask], self.quantile)
        seeds = connected_components(mask & (score >= level)).numpy()
        area = np.bincount(seeds.ravel())
        seeds[area[seeds] < self.min_area] = 0
        # a component of the mask without a seed is a seed of its own, as a whole
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


def _component_quantiles(comp, score, q):
    """
    Per-pixel ``np.quantile`` (linear) of ``score`` over the pixels of the same ``comp``: 1-D
    arrays of the mask's pixels (ids >= 1), the result aligned with them.
    """
    order = np.lexsort((score, comp))
    sorted_comp, sorted_score = comp[order], score[order]
    ids, start, count = np.unique(sorted_comp, return_index=True, return_counts=True)
    pos = q * (count - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, count - 1)
    low, high = sorted_score[start + lo], sorted_score[start + hi]
    levels = low + (high - low) * (pos - lo)
    return levels[np.searchsorted(ids, comp)]
