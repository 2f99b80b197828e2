"""The losses of the DFC clustering branch (Kim, Kanezaki, Tanaka, IEEE TIP 2020)."""

import torch.nn.functional as F

__all__ = ["dfc_losses"]


def dfc_losses(response, valid=None):
    """
    DFC's two terms on a normalised response map ``r`` (no labels):

    - feature similarity ``L_sim``: the cross-entropy of ``r`` against its own argmax
      ``c = argmax_q r`` (a constant pseudo-label: no gradient flows through the argmax), which
      pulls each pixel's response towards its current cluster;
    - spatial continuity ``L_con``: the mean L1 norm of the differences of ``r`` between
      vertically adjacent pixels plus that between horizontally adjacent pixels, which makes
      neighbours share a cluster.

    Args:
        response (Tensor): ``[B, q, H, W]``.
        valid (Tensor or None): bool ``[B, H, W]``, the pixels that count (padding excluded);
            a difference counts where both of its pixels are valid. None: all.
    Returns:
        (Tensor, Tensor): scalars ``L_sim`` and ``L_con``.
    """
    target = response.detach().argmax(dim=1)
    ce = F.cross_entropy(response, target, reduction="none")
    dy = (response[:, :, 1:] - response[:, :, :-1]).abs()
    dx = (response[:, :, :, 1:] - response[:, :, :, :-1]).abs()
    if valid is None:
        return ce.mean(), dy.mean() + dx.mean()
    v = valid.to(response.dtype)
    vy = (v[:, 1:] * v[:, :-1]).unsqueeze(1)
    vx = (v[:, :, 1:] * v[:, :, :-1]).unsqueeze(1)
    q = response.shape[1]
    sim = (ce * v).sum() / v.sum().clamp(min=1)
    con = (dy * vy).sum() / (q * vy.sum()).clamp(min=1) + (dx * vx).sum() / (q * vx.sum()).clamp(
        min=1
    )
    return sim, con
