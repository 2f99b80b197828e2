"""
Python face of the Super-BPD post-processing op ``torch.ops.goss.super_bpd``.

Super-BPD (Wan et al., CVPR 2020) turns a boundary-to-pixel direction (BPD) field into a partition
of the image: pixels point at a neighbour, the resulting trees ("super-BPDs") are grouped around
nearby roots and then merged greedily over a region adjacency graph. See
``goss/csrc/super_bpd/super_bpd.h`` for the op and ``docs/super-bpd.md`` for the algorithm.
"""

import math

import torch

from .ext import load_ops

__all__ = ["super_bpd", "flux_to_angles"]

_TWO_PI_F32 = float(torch.tensor(2 * math.pi, dtype=torch.float32))


def flux_to_angles(flux):
    """
    Angles of a BPD field, as the reference's demo computes them.

    Args:
        flux (Tensor): float [2, H, W], channel 0 = delta-row, channel 1 = delta-col.

    Returns:
        Tensor: float32 [H, W], ``atan2(flux[1], flux[0])`` wrapped to [0, 2*pi) (0 = down).
    """
    angles = torch.atan2(flux[1].float(), flux[0].float())
    return torch.where(angles < 0, angles + 2 * math.pi, angles).contiguous()


def _check_input(x):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"super_bpd: x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"super_bpd: x must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() == 3 and x.shape[0] != 2:
        raise ValueError(f"super_bpd: a flux x must have shape [2, H, W], got {tuple(x.shape)}")
    if x.dim() not in (2, 3):
        raise ValueError(
            f"super_bpd: x must be angles [H, W] or a flux [2, H, W], got shape {tuple(x.shape)}"
        )
    if x.numel() == 0:
        raise ValueError(f"super_bpd: x is empty (shape {tuple(x.shape)})")
    if not x.is_contiguous():
        raise ValueError("super_bpd: x must be contiguous (call .contiguous() first)")
    # CPU angles are checked inside the op, in the same pass that reads them.
    if (x.dim() == 3 or x.is_cuda) and not bool(torch.isfinite(x).all()):
        raise ValueError("super_bpd: x contains NaN or infinite values")
    if x.dim() == 3 and x.shape[1] * x.shape[2] >= 2**31:
        raise ValueError(f"super_bpd: at most 2**31 - 1 pixels, got shape {tuple(x.shape)}")


def _check_params(**params):
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"super_bpd: {name} must be a number, got {type(value).__name__}")
        if not (0.0 <= value <= 180.0):
            raise ValueError(f"super_bpd: {name} must be in [0, 180] degrees, got {value}")


def _check_flags(**flags):
    for name, value in flags.items():
        if not isinstance(value, bool):  # "no", 0 or None would be silently truthy or falsy
            raise TypeError(
                f"super_bpd: {name} must be a bool (True or False), got "
                f"{type(value).__name__} {value!r}"
            )


def super_bpd(
    x,
    theta_a=45.0,
    theta_l=116.0,
    theta_s=68.0,
    s_o=5.0,
    reference_quirks=False,
    return_intermediates=False,
):
    """
    Segment an image from its BPD field with Super-BPD.

    Args:
        x (Tensor): angles float [H, W] in radians in [0, 2*pi) (0 = down, pi/2 = right), or a
            flux float [2, H, W] (channel 0 = delta-row, channel 1 = delta-col) whose angle
            ``atan2(x[1], x[0])`` is used. CPU or CUDA, contiguous, finite.
        theta_a (float): degrees; a pixel is a root when its direction differs from its parent's
            by more than theta_a.
        theta_l (float): degrees; two large super-BPDs (both > 1500 px) merge when the similarity
            ``180 - mean angle difference`` of their boundary exceeds theta_l.
        theta_s (float): the same for small ones (the smaller one in (250, 1500] px).
        s_o (float): degrees; pairs with similarity below s_o repel each other and never merge.
        reference_quirks (bool): reproduce the authors' three bugs (boundary-scan coordinate
            overwrite, area doubling, one-sided repulsion) bit for bit; default: fixed.
        return_intermediates (bool): also return the roots and the super-BPDs before and after
            root merging.

    Returns:
        Tensor: int32 [H, W] labels on x's device, label = 1 + the smallest raster index of the
        region. With return_intermediates, a dict with int32 [H, W] entries ``roots`` (0/1),
        ``before_dilation``, ``after_dilation`` and ``labels``.
    """
    _check_input(x)
    _check_params(theta_a=theta_a, theta_l=theta_l, theta_s=theta_s, s_o=s_o)
    _check_flags(reference_quirks=reference_quirks, return_intermediates=return_intermediates)
    x = x.detach()
    if x.dim() == 3:
        angles = flux_to_angles(x)
    else:
        angles = x.float().contiguous()
        if angles.is_cuda:
            low, high = float(angles.min()), float(angles.max())
            if low < 0 or high > _TWO_PI_F32:
                raise ValueError(
                    f"super_bpd: angles must be radians in [0, 2*pi), got values in [{low}, {high}]"
                )
    load_ops()
    roots, before, after, labels = torch.ops.goss.super_bpd(
        angles,
        float(theta_a),
        float(theta_l),
        float(theta_s),
        float(s_o),
        reference_quirks,
        return_intermediates,
    )
    if not return_intermediates:
        return labels
    return {
        "roots": roots,
        "before_dilation": before,
        "after_dilation": after,
        "labels": labels,
    }
