"""Unknown identification on hand-built logits."""

import pytest
import torch

from goss.config import get_goss_cfg
from goss.modeling.identification import identification_threshold, identify_unknown


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


def test_energy_is_absolute_logsumexp():
    # logsumexp: [5, 5] -> 5.69; [0, 0] -> 0.69; an N+1 model's extra logit is left out
    lg = _logits([5.0, 5.0, 100.0], [0.0, 0.0, -100.0])
    labels, score = identify_unknown(lg, 2, "energy", threshold=3.0)
    assert labels.tolist() == [[0, 2]]
    assert score[0].tolist() == pytest.approx([-5.0 - 0.6931, -0.6931], abs=1e-3)
    # absolute, unlike the normalised MaxLogit: a confident image stays all known
    labels, _ = identify_unknown(lg + 10, 2, "energy", threshold=3.0)
    assert (labels < 2).all()


@pytest.mark.parametrize(
    "identifier,key,value",
    [
        ("msp", "MSP_THRESHOLD", 0.1),
        ("max_logit", "MAX_LOGIT_THRESHOLD", 0.2),
        ("energy", "ENERGY_THRESHOLD", 7.5),
        ("n_plus_one", None, None),
    ],
)
def test_identification_threshold_reads_the_identifiers_key(identifier, key, value):
    opts = ["MODEL.GOSS.IDENTIFIER", identifier, "MODEL.WEIGHTS", ""]
    if key:
        opts += [f"MODEL.GOSS.{key}", str(value)]
    cfg = get_goss_cfg("projects/GOSS/configs/goss_shapes/gst_mobilenet_v2.yaml", opts)
    assert identification_threshold(cfg.MODEL.GOSS) == value


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
        identify_unknown(torch.zeros(2, 4, 4), 2, "odin")
    with pytest.raises(ValueError, match="logits must be"):
        identify_unknown(torch.zeros(4, 4), 2, "msp")
