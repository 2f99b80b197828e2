"""The Super-BPD training loss (``docs/super-bpd.md``, training targets and loss)."""

import torch

__all__ = ["bpd_loss"]

_SHRINK = 0.999999
_EPS = 1e-9


def _unit(v):
    # Scaled just below 1 so that arccos of the dot product keeps a finite gradient. The norm is
    # written out: Tensor.norm over dim 1 takes a slow strided path on the CPU (~100x slower).
    return _SHRINK * v / (torch.sqrt((v * v).sum(1, keepdim=True)) + _EPS)


def bpd_loss(pred, target, weight, reduction="sum"):
    """
    ``sum_p w(p) * (||pred(p) - g(p)||^2 + arccos(<pred(p)/||pred(p)||, g(p)>)^2)`` with ``g`` the
    unit target direction. The raw prediction is compared with the unit target, so the first term
    also pulls ``||pred||`` towards 1.

    Args:
        pred (Tensor): float [B, 2, H, W] predicted field (delta-row, delta-col), unnormalised.
        target (Tensor): float [B, 2, H, W] ground-truth field (any positive length).
        weight (Tensor): float [B, H, W] per-pixel weights (0 = ignored).
        reduction (str): ``"sum"`` (the reference: a plain sum over the batch and all pixels) or
            ``"mean"``: that sum divided by the total weight ``weight.sum()`` (clamped to >= 1e-12
            so an all-zero weight map gives 0 instead of NaN).

    Returns:
        Tensor: scalar loss.
    """
    if pred.dim() != 4 or pred.shape[1] != 2:
        raise ValueError(f"bpd_loss: pred must be [B, 2, H, W], got {tuple(pred.shape)}")
    if target.shape != pred.shape:
        raise ValueError(
            f"bpd_loss: target {tuple(target.shape)} does not match pred {tuple(pred.shape)}"
        )
    if weight.shape != (pred.shape[0],) + tuple(pred.shape[2:]):
        raise ValueError(
            f"bpd_loss: weight must be [B, H, W] = {(pred.shape[0],) + tuple(pred.shape[2:])}, "
            f"got {tuple(weight.shape)}"
        )
    if reduction not in ("sum", "mean"):
        raise ValueError(f"bpd_loss: reduction must be 'sum' or 'mean', got {reduction!r}")
    target = _unit(target.to(pred.dtype))
    w = weight.to(pred.dtype).unsqueeze(1)  # [B, 1, H, W]
    norm_loss = (w * (pred - target) ** 2).sum()
    # The norm gets an epsilon inside the square root so the gradient stays finite at pred == 0.
    pred_n = _SHRINK * pred / (torch.sqrt((pred * pred).sum(1, keepdim=True) + _EPS**2) + _EPS)
    cos = (pred_n * target).sum(1, keepdim=True).clamp(-_SHRINK, _SHRINK)
    angle_loss = (w * torch.acos(cos) ** 2).sum()
    total = norm_loss + angle_loss
    if reduction == "mean":
        total = total / weight.sum().clamp(min=1e-12)
    return total
