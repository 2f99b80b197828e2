"""torch.ops.goss.joint_histogram (through goss.layers.joint_histogram) against np.bincount."""

import warnings

import numpy as np
import pytest
import torch

from goss.layers import joint_histogram, load_ops
from tests.common import require_joint_histogram


@pytest.fixture(autouse=True)
def _require_op():
    require_joint_histogram()


def _expected(gt, gt_keys, pred, pred_keys):
    """(joint, gt_missing, pred_missing) with NumPy."""
    gt, pred = np.asarray(gt).astype(np.int64).ravel(), np.asarray(pred).astype(np.int64).ravel()
    counts = []
    index = []
    for ids, keys in ((gt, gt_keys), (pred, pred_keys)):
        order = np.argsort(keys)
        pos = np.minimum(np.searchsorted(keys, ids, sorter=order), len(keys) - 1)
        hit = keys[order[pos]] == ids
        counts.append(int((~hit).sum()))
        index.append(np.where(hit, order[pos], 0))
    joint = np.bincount(
        index[0] * len(pred_keys) + index[1], minlength=len(gt_keys) * len(pred_keys)
    ).reshape(len(gt_keys), len(pred_keys))
    return joint, counts[0], counts[1]


def _random_maps(rng, gt_keys, pred_keys, shape):
    return rng.choice(gt_keys, shape), rng.choice(pred_keys, shape)


def _check(gt, gt_keys, pred, pred_keys):
    joint, gm, pm = joint_histogram(gt, gt_keys, pred, pred_keys)
    want, want_gm, want_pm = _expected(gt, gt_keys, pred, pred_keys)
    assert (gm, pm) == (want_gm, want_pm)
    if not (gm or pm):
        assert joint.dtype == np.int64 and np.array_equal(joint, want)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gt_dtype", [np.int32, np.int64, np.uint32])
@pytest.mark.parametrize("pred_dtype", [np.int32, np.int64, np.uint32])
def test_matches_bincount(seed, gt_dtype, pred_dtype):
    rng = np.random.default_rng(seed)
    high = 1 << 24 if seed % 2 else 200  # COCO-style 24-bit ids or small ids
    gt_keys = rng.choice(high, rng.integers(1, 40), replace=False).astype(np.int64)
    pred_keys = rng.choice(high, rng.integers(1, 50), replace=False).astype(np.int64)
    shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))  # odd sizes: the loop's tail
    gt, pred = _random_maps(rng, gt_keys, pred_keys, shape)
    _check(gt.astype(gt_dtype), gt_keys, pred.astype(pred_dtype), pred_keys)


def test_negative_and_extreme_ids():
    rng = np.random.default_rng(0)
    keys = np.array([-1, 0, 5, -(1 << 62), (1 << 62) + 3, np.iinfo(np.int64).max], np.int64)
    gt, pred = _random_maps(rng, keys, keys[::-1].copy(), (31, 17))
    _check(gt, keys, pred, keys[::-1].copy())
    small = np.array([-1, 0, 3], np.int64)
    gt, pred = _random_maps(rng, small, small, (8, 8))
    _check(gt.astype(np.int32), small, pred.astype(np.int32), small)


def test_missing_ids_are_counted():
    rng = np.random.default_rng(1)
    gt_keys = np.array([0, 7, 1 << 23], np.int64)
    pred_keys = np.array([0, 3], np.int64)
    gt, pred = _random_maps(rng, gt_keys, pred_keys, (20, 30))
    gt[3, 4] = 8
    gt[5, 6] = -7
    pred[0, :5] = 1 << 40
    _check(gt, gt_keys, pred, pred_keys)
    # uint32 ids never equal a negative or > 32-bit key
    keys = np.array([-1, 1 << 33], np.int64)
    ids = np.full((2, 3), 0xFFFFFFFF, np.uint32)
    assert joint_histogram(ids, keys, ids, keys)[1:] == (6, 6)


@pytest.mark.parametrize("kg, kp", [(300, 300), (5000, 3), (5000, 20)])
def test_many_keys(kg, kp):
    # beyond the interleaved counters (kg * kp > 16384) and beyond the hash tables (5000 keys:
    # the sorted fallback)
    rng = np.random.default_rng(kg + kp)
    gt_keys = rng.choice(1 << 40, kg, replace=False).astype(np.int64)
    pred_keys = rng.choice(1 << 20, kp, replace=False).astype(np.int64)
    gt, pred = _random_maps(rng, gt_keys, pred_keys, (101, 103))
    gt[0, 0] = gt_keys.max() + 1  # a missing id above every key, then below every key
    _check(gt, gt_keys, pred, pred_keys)
    gt[0, 0] = gt_keys.min() - 1
    _check(gt, gt_keys, pred, pred_keys)
    gt[0, 0] = gt_keys[0]
    _check(gt, gt_keys, pred, pred_keys)


def test_other_layouts_and_dtypes():
    rng = np.random.default_rng(2)
    keys = np.array([0, 2, 9], np.int64)
    gt, pred = _random_maps(rng, keys, keys, (12, 10))
    _check(gt.T, keys, pred.T, keys)  # not contiguous
    _check(gt[::2], keys, pred[1::2], keys)
    _check(gt.astype(np.uint8), keys, pred.astype(np.int16), keys)
    _check(gt.astype(np.uint64), keys, pred.astype(">i8"), keys)
    gt.flags.writeable = False  # e.g. np.asarray of a PIL image: read in place, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(gt, keys, pred, keys)


def test_invalid_input():
    load_ops()
    op = torch.ops.goss.joint_histogram
    ids = torch.zeros(2, 3, dtype=torch.int64)
    keys = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="differ in size"):
        op(ids, keys, torch.zeros(3, 3, dtype=torch.int64), keys)
    with pytest.raises(ValueError, match="distinct"):
        op(ids, torch.tensor([0, 1, 0]), ids, keys)
    with pytest.raises(ValueError, match="non-empty"):
        op(ids, keys, ids, torch.zeros(0, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64"):
        op(ids, keys.int(), ids, keys)
    with pytest.raises(TypeError, match="int32, int64 or uint32"):
        op(ids.float(), keys, ids, keys)
    with pytest.raises(ValueError, match="contiguous"):
        op(torch.zeros(3, 2, dtype=torch.int64).t(), keys, ids, keys)
