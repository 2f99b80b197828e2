"""
Python face of ``torch.ops.goss.joint_histogram``: the pixel pass of the GQ statistics.

One pass over two id maps counts every (GT id, predicted id) pair over known key lists and
reports the ids that are not keys (see ``goss/csrc/joint_histogram/joint_histogram.h``). NumPy
in, NumPy out; int32, int64 and uint32 maps are read in place.
"""

import functools
import warnings

import numpy as np
import torch

from .ext import load_ops, op_available

__all__ = ["joint_histogram", "joint_histogram_available"]

_IN_PLACE = (np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.uint32))


@functools.lru_cache(maxsize=None)
def joint_histogram_available():
    """Whether ``goss._C`` is built and has the op (an extension built before it lacks it)."""
    return op_available("joint_histogram", "the GQ statistics use the slower NumPy pixel pass")


def _as_tensor(ids):
    """
    A CPU tensor over ``ids`` (no copy for contiguous int32 / int64 / uint32), other integer
    types as int64 (what the NumPy path uses, uint64 wrapping alike).
    """
    ids = np.asarray(ids)
    if ids.dtype not in _IN_PLACE:
        ids = ids.astype(np.int64)
    ids = np.ascontiguousarray(ids)
    if ids.flags.writeable:
        return torch.from_numpy(ids)
    with warnings.catch_warnings():  # the op only reads: torch's warning does not apply
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(ids)


def joint_histogram(gt_ids, gt_keys, pred_ids, pred_keys):
    """
    Args:
        gt_ids, pred_ids (ndarray): integer id maps with the same number of elements (any shape).
        gt_keys, pred_keys (ndarray): int64 ``[Kg]`` / ``[Kp]`` distinct ids.
    Returns:
        joint (ndarray): int64 ``[Kg, Kp]``; ``joint[a, b]`` = number of pixels with GT id
            ``gt_keys[a]`` and predicted id ``pred_keys[b]``.
        gt_missing, pred_missing (int): pixels whose id is not among the keys (if non-zero,
            ``joint`` is meaningless).
    Raises:
        RuntimeError: if ``goss._C`` is not built; ValueError / TypeError for invalid input.
    """
    load_ops()
    joint, gt_missing, pred_missing = torch.ops.goss.joint_histogram(
        _as_tensor(gt_ids),
        torch.from_numpy(np.ascontiguousarray(gt_keys, dtype=np.int64)),
        _as_tensor(pred_ids),
        torch.from_numpy(np.ascontiguousarray(pred_keys, dtype=np.int64)),
    )
    return joint.numpy(), gt_missing, pred_missing
