"""image_stats with the compiled pixel pass (goss._C) against its NumPy fallback."""

import numpy as np
import pytest

from goss.evaluation import stats
from goss.evaluation.stats import image_stats, pixel_pass_backend
from goss.utils.reference.gq_stats import panopticapi_style_stats
from goss.utils.reference.synthetic import random_pair
from tests.common import require_joint_histogram


@pytest.fixture(autouse=True)
def _require_op():
    require_joint_histogram()


def _outcome(monkeypatch, compiled, *args, **kwargs):
    """image_stats(*args) on one path: its GQStats, or (type, message) of what it raised."""
    with monkeypatch.context() as m:
        m.setattr(stats, "_compiled_available", lambda: compiled)
        try:
            return image_stats(*args, **kwargs)
        except Exception as e:  # compared between the paths
            return type(e), str(e)


def _same_on_both_paths(monkeypatch, *args, **kwargs):
    compiled = _outcome(monkeypatch, True, *args, **kwargs)
    fallback = _outcome(monkeypatch, False, *args, **kwargs)
    assert compiled == fallback
    return compiled


def _seg(i, c=0, crowd=0):
    return {"id": i, "category_id": c, "iscrowd": crowd}


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize(
    "dtypes", [(np.int64, np.int64), (np.int32, np.int32), (np.int32, np.int64)]
)
def test_same_stats_as_numpy(monkeypatch, seed, dtypes):
    rng = np.random.default_rng(seed)
    gt, gs, pred, ps = random_pair(rng, n_gt=int(rng.integers(1, 20)), big_ids=seed % 2 == 1)
    args = (gt.astype(dtypes[0]), gs, pred.astype(dtypes[1]), ps, 5)
    s = _same_on_both_paths(monkeypatch, *args)
    assert isinstance(s, stats.GQStats) and s == panopticapi_style_stats(gt, gs, pred, ps, 5)
    joint = stats._joint_compiled(args[0], _keys(gs), args[2], _keys(ps), "x")
    assert np.array_equal(joint, stats._joint_numpy(args[0], _keys(gs), args[2], _keys(ps), "x"))


def _keys(segments, void=0):
    return np.array([void] + [s["id"] for s in segments], dtype=np.int64)


def test_same_stats_at_benchmark_size(monkeypatch):
    rng = np.random.default_rng(0)
    gt, gs, pred, ps = random_pair(rng, h=480, w=640, num_known=11, n_gt=30, big_ids=True)
    _same_on_both_paths(monkeypatch, gt, gs, pred, ps, 12)
    _same_on_both_paths(monkeypatch, gt.astype(np.uint32), gs, pred.astype(np.uint32), ps, 12)


def test_other_void_ids(monkeypatch):
    # the clustering statistics use pred_void=-1
    rng = np.random.default_rng(5)
    gt, gs, pred, ps = random_pair(rng)
    pred = np.where(pred == 0, -1, pred)
    _same_on_both_paths(monkeypatch, gt, gs, pred, ps, 5, pred_void=-1)
    gt = np.where(gt == 0, 7, gt)
    gs = [s for s in gs if s["id"] != 7]
    _same_on_both_paths(monkeypatch, gt.astype(np.int32), gs, pred, ps, 5, gt_void=7, pred_void=-1)


@pytest.mark.parametrize("offset", [0, 1 << 20])
def test_same_errors(monkeypatch, offset):
    gt = np.array([[1, 1, 2, 3], [0, 0, 2, 2]])
    gt = np.where(gt > 0, gt + offset, 0)
    ok = np.where(gt == 3 + offset, 0, gt)  # every id listed in segs
    segs = [_seg(1 + offset), _seg(2 + offset, 1)]
    pred = np.array([[5, 5, 0, 6], [5, 0, 6, 6]])
    psegs = [_seg(5), _seg(6, 1)]
    cases = [
        (gt, segs, pred, psegs[:1]),  # missing ids on both sides: GT named first
        (ok, segs, pred, psegs[:1]),  # prediction id 6 missing
        (ok, segs + [_seg(9)], pred, psegs),  # a GT segment without pixels
        (ok, segs, pred, psegs + [_seg(8)]),  # a predicted segment without pixels
        (ok, segs, pred.astype(np.float32), psegs),  # not an integer map
        (ok, segs + [_seg(0)], pred, psegs),  # the void id listed
        (ok, segs, pred[:, :3], psegs),  # sizes differ
    ]
    for k, case in enumerate(cases):
        outcome = _same_on_both_paths(monkeypatch, *case, 2, where=f"img{k}")
        assert outcome[0] is ValueError and outcome[1].startswith(f"img{k}"), outcome
    ids = np.arange(40).reshape(5, 8)  # more than 10 missing ids: the first 10 named
    msg = _same_on_both_paths(monkeypatch, ids, [], ids, [], 2, where="many")[1]
    assert "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]" in msg


def test_compiled_path_is_used(monkeypatch):
    def fail(*args):
        raise AssertionError("the NumPy fallback ran although goss._C is built")

    monkeypatch.setattr(stats, "_joint_numpy", fail)
    monkeypatch.setattr(stats, "remap_ids", fail)
    assert pixel_pass_backend() == "compiled"
    gt, gs, pred, ps = random_pair(np.random.default_rng(3))
    assert image_stats(gt, gs, pred, ps, 5) == panopticapi_style_stats(gt, gs, pred, ps, 5)


def test_fallback_when_not_built(monkeypatch):
    monkeypatch.setattr(stats, "_compiled_available", lambda: False)
    monkeypatch.setattr(stats, "_joint_compiled", None)  # would fail if called
    assert pixel_pass_backend() == "numpy"
    gt, gs, pred, ps = random_pair(np.random.default_rng(4))
    assert image_stats(gt, gs, pred, ps, 5) == panopticapi_style_stats(gt, gs, pred, ps, 5)
