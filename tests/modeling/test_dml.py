"""DML identification: prototypes, distance logits, variance loss, the DML and EDS scores."""

import pytest
import torch

from detectron2.modeling import build_model
from goss.modeling.dml import PrototypeClassifier, dml_variance_loss
from goss.modeling.identification import identification_scores, identify_unknown
from tests.common import small_goss_cfg
from tests.modeling.test_goss_e2e import _toy_batch


def _square_prototypes():
    """Four prototypes at +-e1, +-e2 (D = 2, gamma 1)."""
    clf = PrototypeClassifier(4, 2, gamma=1.0)
    with torch.no_grad():
        clf.prototypes.copy_(torch.tensor([[1.0, 0], [-1, 0], [0, 1], [0, -1]]))
    return clf


def _logits_at(clf, points):
    """Logits ``[4, 1, P]`` of embeddings at ``points`` ``[P, 2]``."""
    emb = torch.tensor(points, dtype=torch.float32).t().reshape(1, 2, 1, -1)
    with torch.no_grad():
        return clf(emb)[0]


def test_distance_logits_are_minus_gamma_squared_distances():
    clf = PrototypeClassifier(3, 5, gamma=2.5)
    emb = torch.randn(2, 5, 4, 6)
    d2 = ((emb[:, None] - clf.prototypes[None, :, :, None, None]) ** 2).sum(dim=2)
    torch.testing.assert_close(clf(emb), -2.5 * d2, rtol=1e-5, atol=1e-5)


def test_variance_loss_is_the_mean_distance_to_the_own_prototype():
    clf = PrototypeClassifier(3, 4, gamma=2.0)
    emb = torch.randn(1, 4, 2, 3)
    target = torch.tensor([[[0, 1, 2], [255, 2, 0]]])
    loss = dml_variance_loss(clf(emb), target, gamma=2.0)
    want = [
        ((emb[0, :, i, j] - clf.prototypes[target[0, i, j]]) ** 2).sum()
        for i in range(2)
        for j in range(3)
        if target[0, i, j] != 255
    ]
    torch.testing.assert_close(loss, torch.stack(want).mean(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", ["dml", "eds", "msp"])
def test_an_embedding_far_from_every_prototype_is_more_unknown(method):
    # at a prototype; between two; at the centre of all four (farthest from the nearest)
    logits = _logits_at(_square_prototypes(), [[1.0, 0.0], [0.5, 0.5], [0.0, 0.0]])
    labels, score = identify_unknown(logits, 4, method, threshold=0.6)
    at_proto, between, centre = score[0].tolist()
    assert at_proto < between < centre
    assert labels[0, 0] == 0  # the nearest prototype's class
    if method != "msp":
        assert labels[0, 2] == 4 and labels[0, 0] == 0  # thresholded as unknown / known


def test_eds_is_one_minus_the_distance_sum_over_the_image_maximum():
    # distance sums: at a prototype 0 + 4 + 2 + 2 = 8, at the centre 4 * 1 = 4
    logits = _logits_at(_square_prototypes(), [[1.0, 0.0], [0.0, 0.0]])
    _, confidence, unknown = identification_scores(logits, 4, "eds")
    torch.testing.assert_close(unknown[0], torch.tensor([0.0, 0.5]))
    torch.testing.assert_close(confidence, 1 - unknown)
    # the gamma of the logits cancels
    torch.testing.assert_close(identification_scores(3.0 * logits, 4, "eds")[2], unknown)


def _dml_cfg():
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="dml", contrastive=True)
    cfg.MODEL.DML.ENABLED = True
    cfg.MODEL.DML.EMBED_DIM = 6
    return cfg


def test_dml_model_trains_every_parameter_and_predicts_distance_logits():
    torch.manual_seed(0)
    model = build_model(_dml_cfg()).train()
    batch = _toy_batch(3, "n")
    losses = model(batch)
    assert set(losses) == {"loss_sem_seg", "loss_bpd", "loss_contrastive", "loss_dml_var"}
    assert losses["loss_dml_var"] > 0
    sum(losses.values()).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing
    assert model.dml_head.prototypes.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        (logits, field, size) = model.predict_maps(batch[:1])[0]
        out = model(batch[:1])[0]
    assert logits.shape[0] == 3 and (logits <= 0).all()  # -gamma * distance^2
    assert out["sem_seg"].shape == (3, 64, 96) and out["unknown_score"].shape == (64, 96)


def test_dml_identifiers_need_a_dml_model_and_dml_an_n_model():
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="eds", contrastive=False)
    with pytest.raises(ValueError, match="MODEL.DML.ENABLED"):
        build_model(cfg)
    cfg = _dml_cfg()
    cfg.MODEL.GOSS.TRAIN_MODE = "n_plus_one"
    with pytest.raises(ValueError, match="TRAIN_MODE"):
        build_model(cfg)
