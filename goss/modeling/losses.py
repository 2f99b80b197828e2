"""The semantic loss of GOSS: pixel-weighted cross-entropy."""

import torch.nn.functional as F

__all__ = ["weighted_cross_entropy"]


def weighted_cross_entropy(logits, target, weight=None, ignore_label=255):
    """
    Cross-entropy times a per-pixel weight, averaged over the non-ignored pixels (the unweighted
    count is the denominator, as the reference's ``RegularCE``).

    Args:
        logits (Tensor): ``[B, C, H, W]``.
        target (Tensor): int64 ``[B, H, W]``; ``ignore_label`` pixels do not count.
        weight (Tensor or None): ``[B, H, W]`` pixel weights (None: all 1).
    Returns:
        Tensor: scalar.
    """
    loss = F.cross_entropy(logits, target, ignore_index=ignore_label, reduction="none")
    if weight is not None:
        loss = loss * weight
    valid = (target != ignore_label).sum().clamp(min=1)
    return loss.sum() / valid
