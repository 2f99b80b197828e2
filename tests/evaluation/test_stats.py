"""GQ matching rules on hand-computed toy images, parity with the slow reference, properties."""

import numpy as np
import pytest

from goss.evaluation.metrics import gq_summary, miou
from goss.evaluation.stats import GQStats, image_stats, segments_from_info
from goss.utils.reference.gq_stats import panopticapi_style_stats, reference_stats
from goss.utils.reference.synthetic import random_pair


def _seg(i, c, crowd=0):
    return {"id": i, "category_id": c, "iscrowd": crowd}


def _one(gt, gs, pred, ps, c=2):
    return image_stats(np.array(gt), gs, np.array(pred), ps, c)


def test_iou_exactly_half_is_not_a_match():
    # GT segment 1: 4 pixels; prediction 2 covers 2 of them + 2 others of GT segment 3 (cat 1)
    gt = [[1, 1, 1, 1, 3, 3]]
    pred = [[2, 2, 0, 0, 2, 2]]  # IoU(1,2) = 2 / (4 + 4 - 2) = 1/3
    s = _one(gt, [_seg(1, 0), _seg(3, 1)], pred, [_seg(2, 0)])
    assert s.tp.tolist() == [0, 0] and s.fn.tolist() == [1, 1] and s.fp.tolist() == [1, 0]
    gt = [[1, 1, 3, 3]]
    pred = [[2, 2, 2, 2]]  # IoU(1, 2) = 2 / 4 = 0.5 exactly: not a match
    s = _one(gt, [_seg(1, 0), _seg(3, 1)], pred, [_seg(2, 0)])
    assert s.tp[0] == 0 and s.fn[0] == 1 and s.fp[0] == 1
    pred = [[2, 2, 2, 0]]  # IoU = 2 / 3 > 0.5
    s = _one(gt, [_seg(1, 0), _seg(3, 1)], pred, [_seg(2, 0)])
    assert s.tp[0] == 1 and s.iou[0] == pytest.approx(2 / 3) and s.fp[0] == 0 and s.fn[0] == 0


def test_gt_void_removed_from_union():
    gt = [[1, 1, 0, 0, 0]]
    pred = [[2, 2, 2, 2, 2]]  # 3 pixels on void: IoU = 2 / (5 + 2 - 2 - 3) = 1, not 2 / 5
    s = _one(gt, [_seg(1, 0)], pred, [_seg(2, 0)])
    assert s.tp[0] == 1 and s.iou[0] == pytest.approx(1.0)
    gt = [[1, 1, 0, 0, 0, 3]]
    pred = [[2, 0, 2, 2, 2, 2]]  # inter 1, union = 5 + 2 - 1 - 3 = 3 -> 1/3
    s = _one(gt, [_seg(1, 0), _seg(3, 1)], pred, [_seg(2, 0)])
    # no match; 3 of its 5 pixels are on GT void (> 50%), so it is not a false positive either
    assert s.tp[0] == 0 and s.fp[0] == 0 and s.fn.tolist() == [1, 1]
    # without removing void from the union the IoU would be 2 / 7 < 0.5 instead of 2 / 3
    gt = [[1, 1, 0, 0, 0]]
    pred = [[2, 2, 2, 0, 0]]
    s = _one(gt, [_seg(1, 0)], pred, [_seg(2, 0)])
    assert s.tp[0] == 1 and s.iou[0] == pytest.approx(1.0)


def test_mostly_void_false_positive_ignored():
    gt = [[1, 1, 1, 0, 0, 0]]
    pred = [[0, 0, 0, 2, 2, 2]]  # unmatched, 100% void: not an FP
    s = _one(gt, [_seg(1, 0)], pred, [_seg(2, 1)])
    assert s.fp.tolist() == [0, 0] and s.fn.tolist() == [1, 0]
    pred = [[0, 0, 2, 2, 0, 0]]  # 50% void exactly: is an FP
    s = _one(gt, [_seg(1, 0)], pred, [_seg(2, 1)])
    assert s.fp.tolist() == [0, 1]
    pred = [[0, 0, 2, 2, 2, 0]]  # 2/3 void: ignored
    s = _one(gt, [_seg(1, 0)], pred, [_seg(2, 1)])
    assert s.fp.tolist() == [0, 0]


def test_predicted_void_is_never_a_segment_and_crowd_never_matched():
    gt = [[1, 1, 2, 2]]
    pred = [[0, 0, 5, 5]]
    s = _one(gt, [_seg(1, 0), _seg(2, 1, crowd=1)], pred, [_seg(5, 1)])
    # crowd GT: no TP, no FN; prediction lies 100% on same-category crowd: not an FP
    assert s.tp.sum() == 0 and s.fn.tolist() == [1, 0] and s.fp.sum() == 0
    assert s.confusion[0].tolist() == [0, 0, 2]  # class-0 pixels predicted void


def test_absent_known_class_counts_zero_in_gq_kn_only():
    # N = 2 known (0, 1) + unknown 2; class 1 never occurs
    gt = [[1, 1, 2, 2]]
    pred = [[1, 1, 2, 2]]
    s = image_stats(
        np.array(gt), [_seg(1, 0), _seg(2, 2)], np.array(pred), [_seg(1, 0), _seg(2, 2)], 3
    )
    r = gq_summary(s, num_known=2)
    assert r["GQ_kn"] == pytest.approx(0.5)
    assert r["GQ_kn_present"] == pytest.approx(1.0)
    assert r["GQ_uk"] == pytest.approx(1.0)
    assert r["GQ"] == pytest.approx(0.75)
    assert gq_summary(s, 2, lam=1.0)["GQ"] == pytest.approx(0.5)


def test_gq_formula_sq_rq():
    s = GQStats(2)
    s.tp[:] = [2, 1]
    s.fp[:] = [1, 0]
    s.fn[:] = [1, 3]
    s.iou[:] = [1.6, 0.9]
    r = gq_summary(s, 1)
    assert r["GQ_kn"] == pytest.approx(1.6 / 3)
    assert r["SQ_kn"] == pytest.approx(0.8) and r["RQ_kn"] == pytest.approx(2 / 3)
    assert r["GQ_uk"] == pytest.approx(0.9 / 2.5)
    assert r["SQ_uk"] * r["RQ_uk"] == pytest.approx(r["GQ_uk"])


def test_miou_counts_predicted_absent_class():
    conf = np.array([[3, 1, 0], [0, 0, 0]])  # class 1 predicted once, absent from GT
    m, iou = miou(conf)
    assert iou[0] == pytest.approx(0.75) and iou[1] == 0.0 and m == pytest.approx(0.375)


@pytest.mark.parametrize("seed", range(25))
def test_parity_with_references(seed):
    rng = np.random.default_rng(seed)
    gt, gs, pred, ps = random_pair(rng, big_ids=seed % 2 == 1)
    fast = image_stats(gt, gs, pred, ps, 5)
    assert fast == reference_stats(gt, gs, pred, ps, 5)
    assert fast == panopticapi_style_stats(gt, gs, pred, ps, 5)


def test_perfect_prediction_gives_100():
    rng = np.random.default_rng(3)
    gt, gs, _, _ = random_pair(rng)
    gs = [dict(s, iscrowd=0) for s in gs]
    s = image_stats(gt, gs, gt, gs, 5)
    present = sorted({x["category_id"] for x in gs})
    r = gq_summary(s, 4)
    assert r["GQ_kn_present"] == pytest.approx(1.0)
    assert s.fp.sum() == 0 and s.fn.sum() == 0 and s.tp.sum() == len(gs)
    if len(present) == 5:
        assert r["GQ"] == pytest.approx(1.0)


def test_renumbering_changes_nothing():
    rng = np.random.default_rng(7)
    gt, gs, pred, ps = random_pair(rng)
    a = image_stats(gt, gs, pred, ps, 5)
    perm = {s["id"]: 100000 + 7 * k for k, s in enumerate(reversed(ps))}
    pred2 = np.vectorize(lambda v: perm.get(v, 0))(pred)
    ps2 = [dict(s, id=perm[s["id"]]) for s in ps]
    assert image_stats(gt, gs, pred2, ps2, 5) == a


def test_split_and_add_equals_one_pass():
    rng = np.random.default_rng(11)
    pairs = [random_pair(rng) for _ in range(6)]
    stats = [image_stats(*p, 5) for p in pairs]
    first = sum(stats[:3], GQStats(5))
    second = GQStats(5)
    for s in stats[3:]:
        second += s
    assert first + second == sum(stats)
    # one pass over the images stacked side by side = the same matching, segment by segment
    assert (first + second).tp.sum() == sum(int(s.tp.sum()) for s in stats)


def test_bad_input_names_image():
    gt = np.array([[1, 1]])
    with pytest.raises(ValueError, match="img7.*size"):
        image_stats(gt, [_seg(1, 0)], np.zeros((2, 2), int), [], 2, where="img7")
    with pytest.raises(ValueError, match="img7.*category"):
        image_stats(gt, [_seg(1, 9)], gt, [_seg(1, 0)], 2, where="img7")
    with pytest.raises(ValueError, match="img7.*\\[1\\].*not in segments_info"):
        image_stats(gt, [], gt, [], 2, where="img7")
    with pytest.raises(ValueError, match="img7.*no pixel"):
        image_stats(gt, [_seg(1, 0), _seg(4, 0)], gt, [_seg(1, 0)], 2, where="img7")


@pytest.mark.parametrize(
    "segments,pattern",
    [
        ({"id": 1, "category_id": 0}, r"segments_info must be a list, got dict"),
        (None, r"segments_info must be a list, got null"),
        ([None], r"segments_info\[0\] must be an object.*got null"),
        ([{"category_id": 0}], r"segments_info\[0\] has no 'id'"),
        ([{"id": 1}], r"segments_info\[0\] has no 'category_id'"),
        ([_seg(1, 1.5)], r"segments_info\[0\]\.category_id must be an integer, got float 1\.5"),
        ([_seg(1.0, 0)], r"segments_info\[0\]\.id must be an integer"),
        ([_seg(1, True)], r"segments_info\[0\]\.category_id must be an integer, got bool"),
        ([_seg(1, "0")], r"segments_info\[0\]\.category_id must be an integer, got str"),
        ([_seg(1, 0, "0")], r"segments_info\[0\]\.iscrowd must be 0, 1 or a bool, got str"),
        ([_seg(1, 0, 2)], r"segments_info\[0\]\.iscrowd must be 0, 1 or a bool"),
    ],
)
def test_malformed_segments_info_names_the_field(segments, pattern):
    gt = np.array([[1, 1]])
    with pytest.raises(ValueError, match="img7 \\(GT\\): " + pattern):
        image_stats(gt, segments, gt, [_seg(1, 0)], 2, where="img7")
    assert segments_from_info([_seg(1, 0, True), _seg(2, 1, 0)], 2)[2].tolist() == [True, False]
    assert segments_from_info([_seg(np.int64(3), np.int32(1))], None)[1].tolist() == [1]


@pytest.mark.parametrize("offset", [0, 1 << 20])
def test_unlisted_id_detected_on_both_lookup_paths(offset):
    # small ids use a lookup table, large ones (rgb2id-style) the verified hash
    gt = np.array([[1, 1, 2, 3]]) + offset
    segs = [_seg(1 + offset, 0), _seg(2 + offset, 1)]
    with pytest.raises(ValueError, match=f"\\[{3 + offset}\\]"):
        image_stats(gt, segs, np.zeros((1, 4), int), [], 2, where="x")
    gt[0, 3] = 0
    s = image_stats(gt, segs, gt, segs, 2)
    assert s.tp.tolist() == [1, 1]


def test_no_segments_on_one_or_both_sides():
    gt, gs, pred, ps = random_pair(np.random.default_rng(0))
    void = np.zeros_like(gt)
    for args in [(gt, gs, void, []), (void, [], pred, ps), (void, [], void, [])]:
        s = image_stats(*args, 5)
        assert s == reference_stats(*args, 5) == panopticapi_style_stats(*args, 5)
        assert s.tp.sum() == 0
