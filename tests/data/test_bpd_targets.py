"""BPD ground truth: direction field and weights of train-id label maps."""

import numpy as np
import pytest

from goss.data.bpd_targets import compute_bpd_targets


def _nearest_outside_distance(sem, ignore_label=255):
    """Brute force: per pixel, distance to the nearest pixel of another region or off the image."""
    from scipy import ndimage

    H, W = sem.shape
    regions = np.zeros((H, W), np.int64)
    count = 0
    for value in np.unique(sem):
        comp, n = ndimage.label(sem == value, structure=np.ones((3, 3)))
        regions[comp > 0] = comp[comp > 0] + count
        count += n
    padded = np.pad(regions, 1, constant_values=-1)
    out = np.zeros((H, W))
    rr, cc = np.mgrid[: H + 2, : W + 2]
    for h in range(H):
        for w in range(W):
            outside = padded != regions[h, w]
            out[h, w] = np.sqrt(((rr - h - 1) ** 2 + (cc - w - 1) ** 2)[outside].min())
    return out, regions


def test_single_region_points_away_from_the_image_border():
    field, weight = compute_bpd_targets(np.zeros((5, 7), np.uint8))
    assert field.shape == (2, 5, 7) and field.dtype == np.float32 and weight.dtype == np.float32
    np.testing.assert_allclose(weight, 1 / np.sqrt(35))
    assert tuple(field[:, 0, 3]) == (1, 0)  # top row: from the row above the image, downwards
    assert tuple(field[:, 4, 3]) == (-1, 0)
    assert tuple(field[:, 2, 0]) == (0, 1)
    assert tuple(field[:, 2, 6]) == (0, -1)


def test_two_halves_and_weights():
    sem = np.zeros((6, 8), np.int32)
    sem[:, 4:] = 3
    field, weight = compute_bpd_targets(sem)
    assert tuple(field[:, 2, 3]) == (0, -1)  # left region, next to the boundary at column 4
    assert tuple(field[:, 2, 4]) == (0, 1)
    np.testing.assert_allclose(weight, 1 / np.sqrt(24))


def test_components_of_one_class_are_separate_regions():
    sem = np.zeros((10, 10), np.int64)
    sem[1:3, 1:3] = 1  # 4 px
    sem[6:9, 6:9] = 1  # 9 px
    _, weight = compute_bpd_targets(sem)
    assert weight[1, 1] == np.float32(1 / 2) and weight[7, 7] == np.float32(1 / 3)
    np.testing.assert_allclose(weight[0, 0], 1 / np.sqrt(100 - 13))


def test_ignore_pixels_weigh_zero_and_bound_regions():
    sem = np.zeros((7, 7), np.int64)
    sem[:, 3] = 255
    field, weight = compute_bpd_targets(sem)
    assert (weight[:, 3] == 0).all() and (field[:, :, 3] == 0).all()
    assert tuple(field[:, 3, 2]) == (0, -1)  # the ignore column is outside the left region
    np.testing.assert_allclose(weight[:, :3], 1 / np.sqrt(21))
    other, _ = compute_bpd_targets(sem, ignore_label=7)
    assert (other[:, :, 3] != 0).any()


@pytest.mark.parametrize("seed", range(3))
def test_exact_distance_and_inward_direction(seed):
    rng = np.random.default_rng(seed)
    sem = np.kron(rng.integers(0, 3, size=(4, 5)), np.ones((5, 4), np.int64))
    field, _ = compute_bpd_targets(sem)
    distance, regions = _nearest_outside_distance(sem)
    np.testing.assert_allclose(np.linalg.norm(field, axis=0), distance, rtol=1e-6)
    H, W = sem.shape
    for h in range(H):
        for w in range(W):
            qh, qw = h - int(field[0, h, w]), w - int(field[1, h, w])
            inside = 0 <= qh < H and 0 <= qw < W
            assert not inside or regions[qh, qw] != regions[h, w]


def test_opencv_compat_is_close_and_valid():
    rng = np.random.default_rng(5)
    sem = np.kron(rng.integers(0, 4, size=(5, 6)), np.ones((7, 6), np.int64))
    exact, w_exact = compute_bpd_targets(sem)
    compat, w_compat = compute_bpd_targets(sem, opencv_compat=True)
    np.testing.assert_array_equal(w_exact, w_compat)
    norm_exact, norm_compat = np.linalg.norm(exact, axis=0), np.linalg.norm(compat, axis=0)
    assert (norm_compat >= 1).all()
    # the 5x5 chamfer metric finds a pixel at most a few percent farther than the nearest one
    assert (norm_compat <= norm_exact * 1.1 + 1e-6).all()
    H, W = sem.shape
    for h, w in zip(*np.nonzero(norm_compat)):
        qh, qw = h - int(compat[0, h, w]), w - int(compat[1, h, w])
        assert not (0 <= qh < H and 0 <= qw < W) or sem[qh, qw] != sem[h, w]


@pytest.mark.parametrize(
    "bad,error",
    [
        ([[0, 1]], TypeError),
        (np.zeros((4, 4), np.float32), TypeError),
        (np.zeros((2, 4, 4), np.int64), ValueError),
        (np.zeros((0, 4), np.int64), ValueError),
    ],
)
def test_bad_input(bad, error):
    with pytest.raises(error, match="sem_seg"):
        compute_bpd_targets(bad)
