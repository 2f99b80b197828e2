"""Unknown identification on hand-built logits."""

import pytest
import torch

from goss.modeling.identification import identify_unknown


def _logits(*pixels):
    """Columns of logits -> ``[C, 1, W]``."""
    return torch.tensor(pixels, dtype=torch.float32).T[:, None, :]


def test_msp_thresholds_max_probability():
    # pixel 0: confident class 1; pixel 1: uniform over 2 known classes (p = 0.5)
    lg = _logits([0.0, 5.0], [1.0, 1.0])
    labels, score = identify_unknown(lg, 2, "msp", threshold=0.6)
    assert labels.tolist() == [[1, 2]]
    assert score[0, 1] == pytest.approx(0.5)
    assert score[0, 0] < 0.01


def test_max_logit_normalised_over_whole_image():
    lg = _logits([0.0, 10.0], [0.0, 2.0], [0.0, 6.0])
    labels, score = identify_unknown(lg, 2, "max_logit", threshold=0.5)
    # max logits 10, 2, 6 -> normalised 1, 0, 0.5 (0.5 is not below the threshold)
    assert labels.tolist() == [[1, 2, 1]]
    assert score.tolist() == [[0.0, 1.0, 0.5]]
    # a constant image is all known (no division by zero)
    labels, _ = identify_unknown(torch.ones(2, 3, 3), 2, "max_logit", threshold=0.5)
    assert (labels < 2).all()


def test_n_plus_one_and_confidence_adjustment():
    # p(unknown) slightly below p(class 0): beta=1 keeps class 0, beta=5 flips to unknown
    lg = _logits([1.0, -5.0, 0.8])
    assert identify_unknown(lg, 2, "n_plus_one", beta=1.0)[0].tolist() == [[0]]
    labels, score = identify_unknown(lg, 2, "n_plus_one", beta=5.0)
    assert labels.tolist() == [[2]]
    assert score[0, 0] > 1.0  # adjusted, not renormalised


def test_n_plus_one_needs_n_plus_one_logits():
    with pytest.raises(ValueError, match="N\\+1=3"):
        identify_unknown(torch.zeros(2, 4, 4), 2, "n_plus_one")


def test_unknown_method_and_bad_shape():
    with pytest.raises(ValueError, match="IDENTIFIER"):
        identify_unknown(torch.zeros(2, 4, 4), 2, "dml")
    with pytest.raises(ValueError, match="logits must be"):
        identify_unknown(torch.zeros(4, 4), 2, "msp")
