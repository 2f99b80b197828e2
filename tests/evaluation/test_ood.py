"""AUROC / AUPR / FPR95 from score histograms against scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from goss.evaluation.ood import ScoreHistogram, per_image_metrics, score_bins


def _sk_fpr95(y, s):
    fpr, tpr, _ = roc_curve(y, s)
    return fpr[np.searchsorted(tpr, 0.95 - 1e-12, side="left")]


@pytest.mark.parametrize("seed", range(6))
def test_matches_sklearn_on_float16_scores(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    y = rng.random(n) < 0.3
    s = (rng.normal(size=n) * 3 + y * rng.uniform(0, 4)).astype(np.float16).astype(np.float32)
    if seed % 2:
        s = np.round(s, 1).astype(np.float16).astype(np.float32)  # many ties
    m = ScoreHistogram.from_pixels(s, y).metrics()
    assert m["AUROC"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert m["AUPR"] == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert m["FPR95"] == pytest.approx(_sk_fpr95(y, s), abs=1e-12)


def test_pooled_histograms_add_up_and_void_excluded():
    rng = np.random.default_rng(0)
    s = rng.random((2, 30, 40)).astype(np.float16).astype(np.float32)
    y = rng.random((2, 30, 40)) < 0.4
    valid = rng.random((2, 30, 40)) < 0.8
    h = ScoreHistogram.from_pixels(s[0], y[0], valid[0]) + ScoreHistogram.from_pixels(
        s[1], y[1], valid[1]
    )
    m = h.metrics()
    assert m["AUROC"] == pytest.approx(roc_auc_score(y[valid], s[valid]), abs=1e-12)
    assert h.pos.sum() + h.neg.sum() == valid.sum()


def test_binning_is_monotone_and_rejects_nan():
    v = np.array([-70000, -3.0, -1e-3, -0.0, 0.0, 1e-7, 0.5, 0.5001, 2.0, 70000], np.float32)
    b = score_bins(v)
    assert np.all(np.diff(b) >= 0) and b[1] < b[2] < b[6] < b[8]
    with pytest.raises(ValueError, match="NaN"):
        score_bins(np.array([0.1, np.nan]))


def test_per_image_needs_both_classes():
    assert per_image_metrics(np.zeros((2, 2)), np.zeros((2, 2), bool)) is None
    m = per_image_metrics(np.array([[0.1, 0.9]]), np.array([[False, True]]))
    assert m["AUROC"] == 1.0 and m["FPR95"] == 0.0
