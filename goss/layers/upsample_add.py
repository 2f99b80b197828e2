"""
Python face of ``torch.ops.goss.bilinear_upsample_add_``: ``out += bilinear upsampling of input``
to ``out``'s size, in place, without writing the upsampled tensor (see
``goss/csrc/upsample_add/upsample_add.h``). Where the op does not apply (autograd, another device
or dtype, an extension built without it) PyTorch computes the same sum.
"""

import functools

import torch
import torch.nn.functional as F

from .ext import op_available

__all__ = ["bilinear_upsample_add_", "bilinear_upsample_add_available", "upsample_add_is_fast"]


@functools.lru_cache(maxsize=None)
def bilinear_upsample_add_available():
    """Whether ``goss._C`` is built and has the op (an extension built before it lacks it)."""
    return op_available(
        "bilinear_upsample_add_",
        "the BPD head upsamples with PyTorch's slower ops",
        arguments=("row_offset", "full_height"),
    )


def upsample_add_is_fast(out, input):
    """
    Whether :func:`bilinear_upsample_add_` on tensors like these runs the compiled op: float32
    CPU tensors outside autograd, with the op built. Otherwise it takes PyTorch's ops, which write
    the whole upsampled tensor (for a band of rows, all of it: band by band is then slower).
    """
    return (
        out.device.type == input.device.type == "cpu"
        and out.dtype == input.dtype == torch.float32
        and not (torch.is_grad_enabled() and (out.requires_grad or input.requires_grad))
        and bilinear_upsample_add_available()
    )


def bilinear_upsample_add_(out, input, rows=None):
    """
    ``out += F.interpolate(input, size=out.shape[-2:], mode="bilinear", align_corners=False)``,
    or with ``rows=(start, height)``, ``out`` is rows ``start .. start + out.shape[-2] - 1`` of an
    upsampling to ``(height, out.shape[-1])``, and gets those rows of it.

    Args:
        out (Tensor): ``[B, C, H, W]``, updated in place.
        input (Tensor): ``[B, C, h, w]``, the same batch and channels.
        rows (tuple[int, int] or None): ``(start, height)`` when ``out`` is a band of rows.
    Returns:
        Tensor: ``out``.

    The compiled op runs where :func:`upsample_add_is_fast` says so, reading ``input`` in
    ``out``'s memory format (channels-last or the default one), converted if it is not.
    """
    if out.dim() != 4 or input.dim() != 4 or out.shape[:2] != input.shape[:2]:
        raise ValueError(
            f"bilinear_upsample_add_: out {tuple(out.shape)} and input {tuple(input.shape)} must "
            "be [B, C, H, W] and [B, C, h, w]"
        )
    start, height = (0, out.shape[-2]) if rows is None else rows
    if start < 0 or start + out.shape[-2] > height:
        raise ValueError(
            f"bilinear_upsample_add_: rows={rows} do not hold out's {out.shape[-2]} rows"
        )
    if upsample_add_is_fast(out, input):
        if out.is_contiguous(memory_format=torch.channels_last):
            fmt = torch.channels_last
        elif out.is_contiguous():
            fmt = torch.contiguous_format
        else:
            fmt = None
        if fmt is not None:
            src = input.contiguous(memory_format=fmt)
            return torch.ops.goss.bilinear_upsample_add_(out, src, start, height)
    up = F.interpolate(input, size=(height, out.shape[-1]), mode="bilinear", align_corners=False)
    return out.add_(up[..., start : start + out.shape[-2], :])
