"""Invariants of the Super-BPD op on random fields (docs/super-bpd.md, test vectors), fuzzing, input
validation and the ground-truth round trip."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from goss.layers import super_bpd

from .common import (
    noisy_gt_angles,
    partition,
    refines,
    requires_ops,
    smooth_random_angles,
    torch_threads,
)

pytestmark = requires_ops
KEYS = ("roots", "before_dilation", "after_dilation", "labels")


def _fields():
    yield noisy_gt_angles(96, 128, 12, 4, noise=0.3)
    yield noisy_gt_angles(77, 141, 9, 5, noise=0.5)
    yield smooth_random_angles(50, 61, 2, blur=3)


def _check_label_map(labels):
    flat = labels.ravel()
    assert flat.min() >= 1
    # label - 1 is the raster index of the region's first pixel, which carries the same label
    assert np.array_equal(flat[flat - 1], flat)
    assert np.all(flat - 1 <= np.arange(flat.size))


@pytest.mark.parametrize("quirks", [False, True])
def test_labels_nesting_and_roots(quirks):
    for angles in _fields():
        out = {
            k: v.numpy()
            for k, v in super_bpd(
                angles, reference_quirks=quirks, return_intermediates=True
            ).items()
        }
        for key in KEYS[1:]:
            assert out[key].shape == angles.shape and out[key].dtype == np.int32
            _check_label_map(out[key])
        assert refines(out["before_dilation"], out["after_dilation"])
        assert refines(out["after_dilation"], out["labels"])
        assert set(np.unique(out["roots"])) <= {0, 1}
        # components = roots + root-free cycles
        n_before = len(np.unique(out["before_dilation"]))
        assert n_before >= int(out["roots"].sum())


def _graph_cases():
    for seed in range(6):
        yield noisy_gt_angles(96, 128, 12, seed, noise=0.3 + 0.1 * (seed % 4))
    # a tiny region pointing away from its surroundings: repulsive, so it must survive
    field = np.zeros((64, 40), np.float32)
    field[:5] = np.float32(math.pi)
    yield torch.from_numpy(field)


def test_fixed_mode_repulsion_and_tiny_region_invariants():
    """Spec 6.4 items 8 and 9: no final region holds a repulsive pair, and a surviving region of
    at most 250 px repels every region it shares an edge with."""
    from goss.utils.reference.super_bpd import reference_super_bpd

    for angles in _graph_cases():
        graph = reference_super_bpd(angles.numpy(), return_graph=True)
        out = super_bpd(angles, return_intermediates=True)
        after, labels = out["after_dilation"].numpy().ravel(), out["labels"].numpy().ravel()
        final_of = dict(zip(after.tolist(), labels.tolist()))
        for a, b in graph["repulsive"]:
            assert final_of[a] != final_of[b], (a, b)
        ids, sizes = np.unique(labels, return_counts=True)
        area = dict(zip(ids.tolist(), sizes.tolist()))
        for _, a, b in graph["edges"]:
            fa, fb = final_of[a], final_of[b]
            if fa == fb or min(area[fa], area[fb]) > 250:
                continue
            repel = any(
                final_of[x] in (fa, fb) and final_of[y] in (fa, fb) for x, y in graph["repulsive"]
            )
            assert repel, (fa, fb)


@pytest.mark.parametrize("quirks", [False, True])
def test_deterministic_across_runs_and_thread_counts(quirks):
    angles = noisy_gt_angles(96, 128, 12, 4, noise=0.3)
    with torch_threads(1):
        first = super_bpd(angles, reference_quirks=quirks, return_intermediates=True)
    with torch_threads(4):
        again = super_bpd(angles, reference_quirks=quirks, return_intermediates=True)
    for key in KEYS:
        assert torch.equal(first[key], again[key]), key


def test_theta_a_monotone_before_dilation():
    angles = noisy_gt_angles(96, 128, 12, 1, noise=0.4)
    low = super_bpd(angles, theta_a=30.0, return_intermediates=True)
    high = super_bpd(angles, theta_a=60.0, return_intermediates=True)
    assert refines(low["before_dilation"].numpy(), high["before_dilation"].numpy())
    assert bool((high["roots"] <= low["roots"]).all())


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 23),
    w=st.integers(1, 23),
    seed=st.integers(0, 2**31 - 1),
    quirks=st.booleans(),
    flux=st.booleans(),
)
def test_fuzz_small_and_odd_shapes(h, w, seed, quirks, flux):
    rng = np.random.default_rng(seed)
    if flux:
        x = torch.from_numpy(rng.normal(size=(2, h, w)).astype(np.float32))
    else:
        x = torch.from_numpy(rng.uniform(0, 2 * math.pi, size=(h, w)).astype(np.float32))
    out = super_bpd(x, reference_quirks=quirks, return_intermediates=True)
    for key in KEYS[1:]:
        _check_label_map(out[key].numpy())
    assert refines(out["after_dilation"].numpy(), out["labels"].numpy())
    with torch_threads(1):  # labels only, one thread: the fused single-pass path
        assert torch.equal(super_bpd(x, reference_quirks=quirks), out["labels"])


def test_one_pixel_and_one_row():
    assert super_bpd(torch.zeros(1, 1)).tolist() == [[1]]
    assert super_bpd(torch.full((1, 7), math.pi / 2)).tolist() == [[1] * 7]


def test_compact_partition_helper_consistency():
    labels = super_bpd(noisy_gt_angles(64, 64, 5, 3)).numpy()
    compact = partition(labels)
    assert compact.max() + 1 == len(np.unique(labels)) and compact.ravel()[0] == 0


@pytest.mark.parametrize(
    "bad,error",
    [
        ([[0.0]], TypeError),
        (torch.zeros(3, 3, dtype=torch.int32), TypeError),
        (torch.zeros(3), ValueError),
        (torch.zeros(3, 4, 4), ValueError),
        (torch.zeros(1, 2, 4, 4), ValueError),
        (torch.zeros(0, 4), ValueError),
        (torch.zeros(4, 6)[:, ::2], ValueError),
        (torch.tensor([[0.0, float("nan")]]), ValueError),
        (torch.tensor([[0.0, float("inf")]]), ValueError),
        (torch.tensor([[0.0, -0.5]]), ValueError),
        (torch.tensor([[0.0, 7.0]]), ValueError),
    ],
)
def test_bad_input_errors(bad, error):
    with pytest.raises(error):
        super_bpd(bad)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("where", [(0, 0), (20, 17), (39, 5), (13, 32)])
@pytest.mark.parametrize("value", [float("nan"), -1e-3, 6.5])
def test_invalid_angle_anywhere_raises(threads, where, value):
    """Every code path (border or SIMD interior, parents fused into the forest pass with one
    thread or computed in parallel, with or without intermediates) rejects a bad angle."""
    angles = smooth_random_angles(40, 33, 0)
    angles[where] = value
    with torch_threads(threads):
        for intermediates in (False, True):
            with pytest.raises(ValueError, match="angles"):
                super_bpd(angles, return_intermediates=intermediates)


def test_bad_parameters():
    with pytest.raises(ValueError, match="theta_a"):
        super_bpd(torch.zeros(4, 4), theta_a=200.0)
    with pytest.raises(TypeError, match="s_o"):
        super_bpd(torch.zeros(4, 4), s_o="5")


@pytest.mark.parametrize("flag", ["reference_quirks", "return_intermediates"])
@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, np.bool_(True)])
def test_flags_must_be_real_bools(flag, value):
    with pytest.raises(TypeError, match=f"{flag} must be a bool .*got {type(value).__name__}"):
        super_bpd(torch.zeros(4, 4), **{flag: value})


def test_accepts_float64_and_requires_grad():
    angles = noisy_gt_angles(40, 40, 4, 0)
    expected = super_bpd(angles)
    assert torch.equal(super_bpd(angles.double().requires_grad_()), expected)


def test_ground_truth_field_round_trip():
    """The exact BPD field of a label map recovers its large regions (IoU > 0.9)."""
    from goss.data.bpd_targets import compute_bpd_targets

    # Shapes inside a background, one nested: no region meets another at the image border, where
    # root merging would bridge them (docs/super-bpd.md, "What the algorithm does not do").
    rows, cols = np.mgrid[:160, :240]
    gt = np.zeros((160, 240), np.int64)
    gt[((rows - 50) / 30) ** 2 + ((cols - 60) / 40) ** 2 <= 1] = 1
    gt[30:130, 130:210] = 2
    gt[((rows - 120) / 22) ** 2 + ((cols - 60) / 22) ** 2 <= 1] = 3
    gt[60:100, 150:190] = 4
    field, _ = compute_bpd_targets(gt)
    labels = super_bpd(torch.from_numpy(field)).numpy()
    checked = 0
    for region in np.unique(gt):
        mask = gt == region
        if mask.sum() <= 1500:
            continue
        best = max(
            (mask & (labels == lab)).sum() / (mask | (labels == lab)).sum()
            for lab in np.unique(labels[mask])
        )
        assert best > 0.9, (region, best)
        checked += 1
    assert checked == 5
