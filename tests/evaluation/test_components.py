"""SegmentMeIfYouCan component metrics of the unknown class, on hand-computed toy cases."""

import numpy as np
import pytest

from goss.evaluation import GQAccumulator
from goss.evaluation.components import (
    SMIYC_TAUS,
    ComponentAccumulator,
    ComponentStats,
    component_scores,
    unknown_components,
)

N = 2  # known classes 0, 1; unknown = 2


def test_taus_are_smiyc_s():
    assert SMIYC_TAUS == (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75)


def test_siou_excludes_prediction_pixels_on_other_gt_components():
    # two GT components of 4 pixels, one prediction covering both and 2 background pixels
    gt = np.array([1, 1, 1, 1, 0, 0, 2, 2, 2, 2])
    pred = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    siou, ppv = component_scores(gt, pred)
    # k = 1: |k & P| = 4; union |k | P| = 10 minus P's 4 pixels on GT 2 -> 6
    np.testing.assert_allclose(siou, [4 / 6, 4 / 6])
    np.testing.assert_allclose(ppv, [8 / 10])
    # plain IoU would be 4 / 10
    assert siou[0] > 0.4


def test_siou_unions_all_touching_predictions_and_ppv_per_prediction():
    gt = np.array([0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    pred = np.array([1, 1, 1, 0, 2, 2, 2, 2, 0, 3, 3])
    siou, ppv = component_scores(gt, pred)
    # P(k) = preds 1 and 2 (7 pixels, 2 of them off k); |k & P| = 5; union = 6 + 2 = 8
    np.testing.assert_allclose(siou, [5 / 8])
    np.testing.assert_allclose(ppv, [2 / 3, 3 / 4, 0.0])


def test_missed_component_and_no_prediction():
    siou, ppv = component_scores(np.array([0, 1, 1, 0]), np.array([0, 0, 0, 0]))
    np.testing.assert_allclose(siou, [0.0])
    assert ppv.size == 0
    siou, ppv = component_scores(np.zeros(4, int), np.array([0, 1, 1, 0]))
    assert siou.size == 0
    np.testing.assert_allclose(ppv, [0.0])


def test_f1_counts_strict_siou_and_ppv_thresholds():
    stats = ComponentStats(taus=(0.25, 0.5, 0.75))
    # sIoU 0.5: TP at 0.25 only (strictly greater); PPV 0.5: FP at 0.5 and 0.75 (<=)
    stats.add([0.5, 0.8], [0.5, 1.0])
    np.testing.assert_array_equal(stats.tp, [2, 1, 1])
    np.testing.assert_array_equal(stats.fn, [0, 1, 1])
    np.testing.assert_array_equal(stats.fp, [0, 1, 1])
    np.testing.assert_allclose(stats.f1(), [1.0, 2 / 4, 2 / 4])
    out = stats.summarize()
    assert out["mF1_uk"] == pytest.approx(100 * (1.0 + 0.5 + 0.5) / 3)
    assert out["sIoU_uk"] == pytest.approx(65.0) and out["PPV_uk"] == pytest.approx(75.0)
    assert out["F1_uk_50"] == pytest.approx(50.0)


def test_stats_add_up_over_images():
    a, b, both = ComponentStats(), ComponentStats(), ComponentStats()
    a.add([0.3], [0.9, 0.1])
    b.add([0.7, 0.0], [])
    both.add([0.3, 0.7, 0.0], [0.9, 0.1])
    a += b
    for key in ("tp", "fn", "fp"):
        np.testing.assert_array_equal(getattr(a, key), getattr(both, key))
    assert a.summarize() == pytest.approx(both.summarize())


def _image():
    """8x8: known class 0 everywhere except two unknown objects, a tiny one and a void row."""
    gt = np.ones((8, 8), np.int64)  # segment 1: class 0
    gt[1:4, 1:4] = 2  # unknown object A (9 px)
    gt[5:7, 5:8] = 3  # unknown object B (6 px)
    gt[0, 7] = 4  # unknown object C (1 px): below the minimum size -> void
    gt[7, :] = 0  # void
    segs = [{"id": 1, "category_id": 0}] + [{"id": i, "category_id": N} for i in (2, 3, 4)]
    return gt, segs


def test_small_gt_components_become_void():
    gt, segs = _image()
    comps, roi, valid = unknown_components(gt, segs, N, min_gt_size=2)
    assert len(np.unique(comps[comps > 0])) == 2 and not comps[0, 7]
    assert not roi[0, 7] and valid[0, 7], "the tiny component is void only for these metrics"
    assert not roi[7].any() and roi[0, 0]


def test_model_segments_and_thresholded_score_rows():
    gt, segs = _image()
    pred = np.zeros((8, 8), np.int64)  # 0 = void
    pred[:] = 10  # known class 0
    pred[1:4, 1:5] = 20  # unknown segment covering A (9) + 3 known pixels
    pred[5:8, 5:8] = 30  # unknown segment on B (6) + 3 pixels on GT void (dropped)
    pred[0, 7] = 40  # unknown on the tiny component: void, dropped
    psegs = [{"id": 10, "category_id": 0}] + [{"id": i, "category_id": N} for i in (20, 30, 40)]
    score = np.zeros((8, 8), np.float32)
    score[1:4, 1:3] = 0.9  # 6 px of A
    score[0, 5] = 0.9  # a false positive of 1 px, not touching A
    acc = ComponentAccumulator(N, min_gt_size=2, score_threshold=0.5)
    acc.add_image(gt, segs, pred, psegs, score)
    # segments: A sIoU 9 / 12, B 6 / 6; PPV 9 / 12, 1 (segment 40 lies on void only)
    assert acc.segments.siou_sum == pytest.approx(9 / 12 + 1.0)
    assert acc.segments.num_pred == 2 and acc.segments.ppv_sum == pytest.approx(9 / 12 + 1.0)
    # thresholded: A 6 / 9, B 0; components: the 6 px on A (PPV 1), the lone pixel (PPV 0)
    t = acc.thresholded
    assert t.siou_sum == pytest.approx(6 / 9) and t.num_gt == 2
    assert t.num_pred == 2 and t.ppv_sum == pytest.approx(1.0)
    out = acc.summarize()
    assert out["num_uk_components"] == 2
    # segments: F1 1 for tau < 0.75; at 0.75, A (sIoU = PPV = 0.75) is an FN and an FP
    assert out["mF1_uk"] == pytest.approx(100 * (10 * 1.0 + 2 / 4) / 11)
    assert out["F1_uk_75"] == pytest.approx(50.0) and out["F1_uk_50"] == pytest.approx(100.0)
    # thresholded: A is a TP for tau < 2/3 (9 of 11 taus), B an FN; the lone pixel an FP
    f1 = [2 * tp / (2 * tp + fn + 1) for tp, fn in [(1, 1)] * 9 + [(0, 2)] * 2]
    assert out["mF1_uk_thresholded"] == pytest.approx(100 * np.mean(f1))
    assert out["sIoU_uk_thresholded"] == pytest.approx(100 * (6 / 9) / 2)


def test_min_pred_size_drops_small_predictions():
    gt, segs = _image()
    pred = np.full((8, 8), 10)
    pred[0, 0] = 20
    psegs = [{"id": 10, "category_id": 0}, {"id": 20, "category_id": N}]
    keep = ComponentAccumulator(N, min_gt_size=2)
    drop = ComponentAccumulator(N, min_gt_size=2, min_pred_size=2)
    for acc in (keep, drop):
        acc.add_image(gt, segs, pred, psegs)
    assert keep.segments.num_pred == 1 and drop.segments.num_pred == 0


def test_gq_accumulator_reports_them_beside_gq_uk():
    gt, segs = _image()
    acc = GQAccumulator(N, diagnostics=False, smiyc_min_gt_size=2)
    acc.add_image(0, gt, segs, gt, segs)  # perfect prediction
    res, _ = acc.summarize(bootstrap_samples=0)
    assert res["GQ_uk"] == pytest.approx(100.0)
    assert res["sIoU_uk"] == pytest.approx(100.0) and res["mF1_uk"] == pytest.approx(100.0)
    assert "mF1_uk_thresholded" not in res
    other = GQAccumulator(N, diagnostics=False, smiyc_min_gt_size=2)
    other.add_image(1, gt, segs, np.zeros_like(gt), [])  # nothing predicted
    acc += other
    res, _ = acc.summarize(bootstrap_samples=0)
    assert res["sIoU_uk"] == pytest.approx(50.0) and res["num_uk_components"] == 4
    assert res["mF1_uk"] == pytest.approx(100 * 2 * 2 / (2 * 2 + 2))
