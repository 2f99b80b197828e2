"""The Super-BPD loss: values, batch handling, reductions and finite gradients."""

import math

import pytest
import torch

from goss.modeling.bpd_loss import bpd_loss


def _single_pixel(pred, target, weight=1.0):
    p = torch.tensor(pred, dtype=torch.float64).view(1, 2, 1, 1)
    t = torch.tensor(target, dtype=torch.float64).view(1, 2, 1, 1)
    return bpd_loss(p, t, torch.full((1, 1, 1), weight, dtype=torch.float64))


def test_hand_computed_values():
    # orthogonal: norm term (0 - g0)^2 + (1 - 0)^2 with g0 = 0.999999, angle term (pi/2)^2
    expected = 0.999999**2 + 1 + (math.pi / 2) ** 2
    assert float(_single_pixel([0.0, 1.0], [5.0, 0.0])) == pytest.approx(expected, rel=1e-6)
    # opposite and twice as long: (-2 - 0.999999)^2 + acos(-0.999999^2)^2, weighted by 0.5
    expected = 0.5 * ((2 + 0.999999) ** 2 + math.acos(-(0.999999**2)) ** 2)
    assert float(_single_pixel([-2.0, 0.0], [3.0, 0.0], 0.5)) == pytest.approx(expected, rel=1e-5)
    # a perfect prediction costs (almost) nothing
    assert float(_single_pixel([0.6, 0.8], [3.0, 4.0])) < 1e-4


def test_batch_is_the_sum_of_its_images():
    torch.manual_seed(0)
    pred, target = torch.randn(3, 2, 5, 6), torch.randn(3, 2, 5, 6) * 4
    weight = torch.rand(3, 5, 6)
    whole = bpd_loss(pred, target, weight)
    parts = sum(bpd_loss(pred[b : b + 1], target[b : b + 1], weight[b : b + 1]) for b in range(3))
    assert float(whole) == pytest.approx(float(parts), rel=1e-5)
    # the target's length does not matter, only its direction
    assert float(bpd_loss(pred, target * 7, weight)) == pytest.approx(float(whole), rel=1e-5)


def test_mean_is_sum_over_total_weight_and_zero_weight_ignores():
    torch.manual_seed(1)
    pred, target = torch.randn(2, 2, 4, 4), torch.randn(2, 2, 4, 4)
    weight = torch.rand(2, 4, 4)
    total = bpd_loss(pred, target, weight)
    assert float(bpd_loss(pred, target, weight, "mean")) == pytest.approx(
        float(total / weight.sum()), rel=1e-6
    )
    weight[0] = 0
    changed = pred.clone()
    changed[0] = 100
    assert float(bpd_loss(changed, target, weight)) == pytest.approx(
        float(bpd_loss(pred, target, weight)), rel=1e-6
    )
    assert float(bpd_loss(pred, target, torch.zeros(2, 4, 4), "mean")) == 0


def test_gradients_are_finite_at_zero_and_aligned_predictions():
    target = torch.tensor([1.0, 0.0, 0.0, 1.0]).view(1, 2, 1, 2)
    for values in ([0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0], [-1.0, 0.0, 0.0, -1.0]):
        pred = torch.tensor(values).view(1, 2, 1, 2).requires_grad_()
        loss = bpd_loss(pred, target, torch.ones(1, 1, 2))
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(pred.grad).all(), values


@pytest.mark.parametrize(
    "shapes,reduction",
    [
        (((1, 3, 4, 4), (1, 3, 4, 4), (1, 4, 4)), "sum"),
        (((1, 2, 4, 4), (1, 2, 4, 5), (1, 4, 4)), "sum"),
        (((2, 2, 4, 4), (2, 2, 4, 4), (2, 1, 4, 4)), "sum"),
        (((1, 2, 4, 4), (1, 2, 4, 4), (1, 4, 4)), "none"),
    ],
)
def test_bad_arguments(shapes, reduction):
    pred, target, weight = (torch.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match="bpd_loss"):
        bpd_loss(pred, target, weight, reduction)
