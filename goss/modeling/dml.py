"""
Deep metric learning for unknown identification (DMLNet: Cen et al., "Deep Metric Learning for
Open World Semantic Segmentation", ICCV 2021): one learnable prototype per known class, logits
from squared distances, and the variance loss.

In a DML model (``MODEL.DML.ENABLED``) the semantic head outputs ``D``-channel embeddings and
:class:`PrototypeClassifier` turns them into the model's semantic logits, so identification,
calibration and fusion read them like any other logits. The semantic cross-entropy of such a
model is DMLNet's distance-based cross-entropy (DCE); :func:`dml_variance_loss` is added to it.
"""

import torch
import torch.nn as nn

__all__ = ["PrototypeClassifier", "dml_variance_loss"]


class PrototypeClassifier(nn.Module):
    """
    Logits ``-gamma * ||e - p_c||^2`` of an embedding map ``e`` against prototypes ``p_c``, one
    learnable ``D``-vector per known class.
    """

    def __init__(self, num_classes: int, embed_dim: int, gamma: float = 1.0):
        """
        Args:
            num_classes (int): N, the known classes.
            embed_dim (int): D.
            gamma (float): the scale of the distance logits (> 0).
        """
        super().__init__()
        if gamma <= 0:
            raise ValueError(f"MODEL.DML.GAMMA must be > 0, got {gamma}")
        self.gamma = float(gamma)
        self.prototypes = nn.Parameter(torch.randn(num_classes, embed_dim))

    def squared_distances(self, embeddings):
        """
        Args:
            embeddings (Tensor): ``[B, D, H, W]``.
        Returns:
            Tensor: ``[B, N, H, W]``, ``||e - p_c||^2`` (>= 0).
        """
        e2 = embeddings.pow(2).sum(dim=1, keepdim=True)
        p2 = self.prototypes.pow(2).sum(dim=1).view(1, -1, 1, 1)
        cross = torch.einsum("bdhw,nd->bnhw", embeddings, self.prototypes)
        return (e2 - 2 * cross + p2).clamp(min=0)

    def forward(self, embeddings):
        """``[B, D, H, W]`` embeddings -> ``[B, N, H, W]`` logits ``-gamma * distance^2``."""
        return -self.gamma * self.squared_distances(embeddings)


def dml_variance_loss(logits, target, gamma, ignore_label=255):
    """
    DMLNet's variance loss: the mean squared distance of each labelled pixel's embedding to its
    own class prototype, read from the distance logits (``||e - p_y||^2 = -logit_y / gamma``).

    Args:
        logits (Tensor): ``[B, N, H, W]`` from :class:`PrototypeClassifier`.
        target (Tensor): int64 ``[B, H, W]`` train ids; ``ignore_label`` (and any id outside
            ``0..N-1``) does not count.
        gamma (float): the classifier's gamma.
    Returns:
        Tensor: scalar.
    """
    valid = (target != ignore_label) & (target >= 0) & (target < logits.shape[1])
    index = torch.where(valid, target, 0).unsqueeze(1)
    dist = -logits.gather(1, index).squeeze(1) / gamma
    return (dist * valid).sum() / valid.sum().clamp(min=1)
