"""Parity of the compiled op with the slow pure-Python reference on small random fields."""

import numpy as np
import pytest

from goss.layers import super_bpd
from goss.utils.reference.super_bpd import reference_super_bpd

from .common import (
    deg_field,
    noisy_gt_angles,
    requires_ops,
    smooth_random_angles,
    torch_threads,
)

pytestmark = requires_ops


def _labels_only(angles, quirks, threads, **params):
    """Labels without intermediates: a different code path (one thread: parents fused into the
    forest pass; root merging during the forest pass)."""
    with torch_threads(threads):
        return super_bpd(angles, reference_quirks=quirks, **params).numpy()


def _check_parity(angles, quirks, **params):
    ours = super_bpd(angles, reference_quirks=quirks, return_intermediates=True, **params)
    ref = reference_super_bpd(angles.numpy(), quirks=quirks, **params)
    for key in ("roots", "before_dilation", "after_dilation", "labels"):
        np.testing.assert_array_equal(ours[key].numpy(), ref[key], err_msg=key)
    for threads in (1, 3):
        labels = _labels_only(angles, quirks, threads, **params)
        np.testing.assert_array_equal(labels, ref["labels"], err_msg=f"labels only, {threads=}")


@pytest.mark.parametrize("quirks", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_parity_random_smooth_fields(seed, quirks):
    h, w = [(24, 31), (40, 40), (17, 53), (48, 36), (33, 29), (45, 45)][seed]
    _check_parity(smooth_random_angles(h, w, seed, blur=3 + seed % 3), quirks)


@pytest.mark.parametrize("quirks", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_parity_noisy_ground_truth_fields(seed, quirks):
    h, w = [(48, 64), (60, 60), (40, 90), (72, 96)][seed % 4]
    angles = noisy_gt_angles(h, w, 3 + seed, seed, noise=0.2 + 0.1 * (seed % 3))
    _check_parity(angles, quirks)


@pytest.mark.parametrize("quirks", [False, True])
def test_parity_other_thresholds(quirks):
    angles = smooth_random_angles(40, 44, 11, blur=4)
    _check_parity(angles, quirks, theta_a=60.0, theta_l=100.0, theta_s=80.0, s_o=20.0)


@pytest.mark.parametrize("quirks", [False, True])
def test_parity_piecewise_constant(quirks):
    rng = np.random.default_rng(3)
    blocks = rng.choice([0, 45, 90, 135, 180, 225, 270, 315], size=(6, 6)) + rng.uniform(-10, 10)
    field = np.kron(blocks, np.ones((7, 8))) % 360
    _check_parity(deg_field(field), quirks)


@pytest.mark.parametrize("seed", range(8))
def test_parity_larger_noisy_fields_both_modes(seed):
    angles = noisy_gt_angles(96, 128, 12, seed, noise=0.3 + 0.1 * (seed % 4))
    _check_parity(angles, False)
    _check_parity(angles, True)


def test_parity_where_the_quirks_change_the_output():
    angles = noisy_gt_angles(96, 128, 12, 4, noise=0.3)
    fixed, quirky = super_bpd(angles), super_bpd(angles, reference_quirks=True)
    assert int((fixed != quirky).sum()) > 0  # the case exercises the quirks
    _check_parity(angles, False)
    _check_parity(angles, True)
