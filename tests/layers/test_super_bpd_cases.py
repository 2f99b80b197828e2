"""Hand-made angle fields with known Super-BPD outputs (T1-T9 of docs/super-bpd.md)."""

import numpy as np
import pytest

from goss.layers import super_bpd

from .common import deg_field, requires_ops

pytestmark = requires_ops


def _run(degrees, **kwargs):
    out = super_bpd(deg_field(degrees), return_intermediates=True, **kwargs)
    return {k: v.numpy() for k, v in out.items()}


def _halves(h, w, split, top, bottom, axis=0):
    field = np.full((h, w), float(bottom))
    if axis == 0:
        field[:split] = top
    else:
        field[:, :split] = top
    return field


def _summary(out):
    return (
        int(out["roots"].sum()),
        len(np.unique(out["before_dilation"])),
        len(np.unique(out["after_dilation"])),
        sorted(np.unique(out["labels"]).tolist()),
    )


@pytest.mark.parametrize("quirks", [False, True])
def test_t1_uniform_down(quirks):
    out = _run(np.zeros((64, 64)), reference_quirks=quirks)
    assert _summary(out) == (64, 64, 1, [1])
    assert out["roots"][-1].all() and not out["roots"][:-1].any()


def test_t2_diverging_halves_repel():
    out = _run(_halves(64, 64, 32, 270, 90, axis=1))
    assert _summary(out) == (128, 128, 2, [1, 33])


def test_t3_converging_halves_merge():
    out = _run(_halves(64, 64, 32, 90, 270, axis=1))
    assert _summary(out)[0] == 128 and _summary(out)[2:] == (1, [1])
    assert out["roots"][:, 31].all() and out["roots"][:, 32].all()


def test_t4_large_regions_theta_l():
    field = _halves(64, 64, 32, 60, 0)
    out = _run(field)
    assert _summary(out) == (159, 159, 2, [1])
    assert _summary(_run(field, theta_l=121))[3] == [1, 2049]


def test_t5_small_regions_theta_s():
    assert _summary(_run(_halves(64, 40, 32, 120, 0)))[0] == 111
    assert _summary(_run(_halves(64, 40, 32, 120, 0)))[3] == [1, 1281]
    out = _run(_halves(64, 40, 32, 100, 0))
    assert _summary(out)[0] == 72 and _summary(out)[3] == [1]


def test_t6_tiny_region_merges_without_angle_test():
    assert _summary(_run(_halves(64, 40, 5, 120, 0)))[3] == [1]


def test_t7_tiny_region_kept_by_repulsion():
    field = _halves(64, 40, 5, 180, 0)
    assert _summary(_run(field))[3] == [1, 201]
    assert _summary(_run(field, s_o=0.0))[3] == [1]


def test_t8_small_class_boundary():
    assert _summary(_run(_halves(64, 64, 4, 60, 0)))[3] == [1]


@pytest.mark.parametrize("theta_a,roots,components", [(50.0, 12, 13), (45.0, 18, 18)])
def test_t9_root_free_cycle(theta_a, roots, components):
    field = np.zeros((8, 8))
    loop = [(2, 2), (3, 2), (4, 3), (4, 4), (3, 5), (2, 5), (1, 4), (1, 3)]
    for k, (h, w) in enumerate(loop):
        field[h, w] = 45 * k
    out = _run(field, theta_a=theta_a)
    assert int(out["roots"].sum()) == roots
    assert len(np.unique(out["before_dilation"])) == components
