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

__all__ = ["bilinear_upsample_add_", "bilinear_upsample_add_available"]


@functools.lru_cache(maxsize=None)
def bilinear_upsample_add_available():
    """Whether ``goss._C`` is built and has the op (an extension built before it lacks it)."""
    return op_available(
        "bilinear_upsample_add_", "the BPD head upsamples with PyTorch's slower ops"
    )


def bilinear_upsample_add_(out, input):
    """
    ``out += F.interpolate(input, size=out.shape[-2:], mode="bilinear", align_corners=False)``.

    Args:
        out (Tensor): ``[B, C, H, W]``, updated in place.
        input (Tensor): ``[B, C, h, w]``, the same batch and channels.
    Returns:
        Tensor: ``out``.

    The compiled op runs for float32 CPU tensors outside autograd, reading ``input`` in ``out``'s
    memory format (channels-last or the default one).
    """
    if out.dim() != 4 or input.dim() != 4 or out.shape[:2] != input.shape[:2]:
        raise ValueError(
            f"bilinear_upsample_add_: out {tuple(out.shape)} and input {tuple(input.shape)} must "
            "be [B, C, H, W] and [B, C, h, w]"
        )
    fast = (
        out.device.type == input.device.type == "cpu"
        and out.dtype == input.dtype == torch.float32
        and not (torch.is_grad_enabled() and (out.requires_grad or input.requires_grad))
    )
    if fast and bilinear_upsample_add_available():
        if out.is_contiguous(memory_format=torch.channels_last):
            fmt = torch.channels_last
        elif out.is_contiguous():
            fmt = torch.contiguous_format
        else:
            fmt = None
        if fmt is not None:
            return torch.ops.goss.bilinear_upsample_add_(out, input.contiguous(memory_format=fmt))
    up = F.interpolate(input, size=out.shape[-2:], mode="bilinear", align_corners=False)
    return out.add_(up)
