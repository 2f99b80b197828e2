"""
The projection head of pixel contrastive learning (paper Eq. 4); its loss is
:class:`goss.modeling.losses.PixelContrastiveLoss`.
"""

import torch
import torch.nn as nn

__all__ = ["ProjectionHead"]


class ProjectionHead(nn.Module):
    """1x1 conv, BN, ReLU, 1x1 conv to ``proj_dim``, then L2 normalisation over channels."""

    def __init__(self, in_channels: int, proj_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 1),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, proj_dim, 1),
        )

    def forward(self, x):
        """``[B, C, h, w]`` features -> ``[B, proj_dim, h, w]`` unit-norm embeddings."""
        y = self.net(x)
        # F.normalize's norm over dim 1 is a slow strided reduction on the CPU: written out
        return y / torch.sqrt((y * y).sum(1, keepdim=True)).clamp(min=1e-12)
