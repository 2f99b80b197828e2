"""Honest N+1 targets (unknown classes ignored, void is class N) and pasted outliers."""

import numpy as np
import pytest

from goss.config import get_goss_cfg
from goss.data import GOSSDatasetMapper, GOSSTargetGenerator, OutlierPaste
from goss.data.goss_format import IGNORE_LABEL, UNKNOWN_LABEL
from goss.data.outlier_paste import image_texture, random_object_mask, random_texture
from tests.common import small_goss_cfg, write_tiny_goss_dataset

N = 3


def _sem():
    sem = np.zeros((24, 32), np.uint8)
    sem[:, 16:] = 1
    sem[2:8, 2:8] = UNKNOWN_LABEL  # a car: an unknown class
    sem[12:18, 2:8] = IGNORE_LABEL  # the source's void
    sem[12:18, 20:26] = N  # a pasted outlier
    return sem


@pytest.mark.parametrize("mode", ["n", "n_plus_one"])
def test_unknown_classes_are_never_trained_on(mode):
    out = GOSSTargetGenerator(N, mode)(_sem())
    target, bpd_w = out["sem_seg"].numpy(), out["bpd_weights"].numpy()
    assert (target[2:8, 2:8] == IGNORE_LABEL).all()
    assert (bpd_w[2:8, 2:8] == 0).all() and (out["bpd_field"].numpy()[:, 2:8, 2:8] == 0).all()
    void = target[12:18, 2:8]
    assert (void == (N if mode == "n_plus_one" else IGNORE_LABEL)).all()
    assert (target[0, :16] == 0).all() and (target[0, 16:] == 1).all()


def test_void_can_stay_ignored_in_an_n_plus_one_model():
    out = GOSSTargetGenerator(N, "n_plus_one", void_as_unknown=False)(_sem())
    target = out["sem_seg"].numpy()
    assert (target[12:18, 2:8] == IGNORE_LABEL).all()  # void: ignored
    assert (target[12:18, 20:26] == N).all()  # a pasted outlier: still class N
    assert (target[2:8, 2:8] == IGNORE_LABEL).all()
    cfg = small_goss_cfg(num_known=N, train_mode="n_plus_one")
    cfg.MODEL.GOSS.VOID_AS_UNKNOWN = False
    with pytest.raises(ValueError, match="VOID_AS_UNKNOWN.*OUTLIER_PASTE"):
        GOSSDatasetMapper(cfg, True)  # class N would never be trained
    cfg.INPUT.OUTLIER_PASTE.ENABLED = True
    assert GOSSDatasetMapper(cfg, True).target_generator.void_as_unknown is False
    GOSSDatasetMapper(cfg, False)  # inference needs no class-N targets


def test_pasted_outlier_is_class_n_with_its_own_field():
    out = GOSSTargetGenerator(N, "n_plus_one")(_sem())
    assert (out["sem_seg"].numpy()[12:18, 20:26] == N).all()
    field = out["bpd_field"].numpy()[:, 12:18, 20:26]
    assert (out["bpd_weights"].numpy()[12:18, 20:26] > 0).all()
    # the field points away from the outlier's own boundary: its top row (corners aside) points
    # down (+row)
    assert (field[0, 0, 1:-1] >= 1).all()


def test_paste_changes_only_labelled_pixels():
    np.random.seed(0)
    image = np.full((40, 60, 3), 77, np.uint8)
    sem = np.ones((40, 60), np.uint8)
    paste = OutlierPaste(label=N, prob=1.0, max_objects=3, size_range=(0.3, 0.5))
    new_image, new_sem = paste(image, sem)
    assert (image == 77).all() and (sem == 1).all()  # inputs untouched
    pasted = new_sem == N
    assert pasted.any() and set(np.unique(new_sem)) <= {1, N}
    assert (new_image[~pasted] == 77).all()
    assert new_image.dtype == np.uint8 and new_image.shape == image.shape


def test_paste_probability_zero_is_identity_and_bad_settings_raise():
    image, sem = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)
    out = OutlierPaste(N, prob=0.0)(image, sem)
    assert out[0] is image and out[1] is sem
    with pytest.raises(ValueError, match="PROB"):
        OutlierPaste(N, prob=1.5)
    with pytest.raises(ValueError, match="MAX_OBJECTS"):
        OutlierPaste(N, max_objects=0)
    with pytest.raises(ValueError, match="SIZE_RANGE"):
        OutlierPaste(N, size_range=(0.5, 0.1))
    with pytest.raises(ValueError, match="SIZE_SAMPLING"):
        OutlierPaste(N, size_sampling="normal")


def test_log_uniform_sizes_favour_small_objects():
    # log-uniform on [0.02, 0.32]: the median is the geometric mean 0.08 (uniform: 0.17), and a
    # quarter of the sizes lie below 0.04 (uniform: 7%)
    sizes = {}
    for sampling in ("uniform", "log_uniform"):
        paste = OutlierPaste(N, size_range=(0.02, 0.32), size_sampling=sampling)
        rng = np.random.default_rng(0)
        sizes[sampling] = np.array([paste._size(rng) for _ in range(4000)])
        assert sizes[sampling].min() >= 0.02 and sizes[sampling].max() <= 0.32
    assert abs(np.median(sizes["log_uniform"]) - 0.08) < 0.01
    assert abs(np.median(sizes["uniform"]) - 0.17) < 0.01
    assert abs((sizes["log_uniform"] < 0.04).mean() - 0.25) < 0.03


def test_masks_and_textures_vary():
    rng = np.random.default_rng(1)
    masks = [random_object_mask(rng, 64, 64, 30) for _ in range(8)]
    assert all(m.dtype == bool and m.shape == (64, 64) for m in masks)
    assert len({m.tobytes() for m in masks}) == 8 and any(m.sum() > 100 for m in masks)
    tex = [random_texture(rng, 16, 16) for _ in range(6)]
    assert all(t.shape == (16, 16, 3) and 0 <= t.min() and t.max() <= 255 for t in tex)
    assert np.std([t.mean() for t in tex]) > 1


def test_mapper_pastes_in_training_only(tmp_path):
    write_tiny_goss_dataset(tmp_path, "paste_tiny", num_known=N)
    opts = ["INPUT.OUTLIER_PASTE.ENABLED", "True", "INPUT.OUTLIER_PASTE.PROB", "1.0"]
    cfg = small_goss_cfg(num_known=N, train_mode="n_plus_one")
    cfg.merge_from_list(opts + ["INPUT.CROP.ENABLED", "False"])
    from detectron2.data import DatasetCatalog

    record = DatasetCatalog.get("paste_tiny")[0]
    np.random.seed(3)
    train = GOSSDatasetMapper(cfg, True)(record)
    assert (train["sem_seg"].numpy() == N).any()
    test = GOSSDatasetMapper(cfg, False)(record)
    assert "sem_seg" not in test
    cfg.MODEL.GOSS.TRAIN_MODE = "n"
    with pytest.raises(ValueError, match="OUTLIER_PASTE.*n_plus_one"):
        GOSSDatasetMapper(cfg, True)


def test_n_plus_one_oe_config_builds():
    cfg = get_goss_cfg(
        "projects/GOSS/configs/camvid_goss/mobilenet_v2/n_plus_one_oe.yaml", ["MODEL.WEIGHTS", ""]
    )
    assert cfg.INPUT.OUTLIER_PASTE.ENABLED and cfg.MODEL.GOSS.TRAIN_MODE == "n_plus_one"
    assert GOSSDatasetMapper(cfg, True).outlier_paste is not None


@pytest.mark.parametrize("texture", ["image", "mixed"])
def test_image_textures_come_from_the_image(texture):
    np.random.seed(1)
    # two flat colours: every pasted pixel must be one of them, re-lit by one gain per object
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, :30] = (200, 100, 50)
    image[:, 30:] = (20, 40, 160)
    sem = np.ones((40, 60), np.uint8)
    paste = OutlierPaste(N, prob=1.0, max_objects=1, size_range=(0.5, 0.6), texture=texture)
    seen_image_texture = False
    for _ in range(10):
        new_image, new_sem = paste(image, sem)
        pasted = new_sem == N
        assert (new_image[~pasted] == image[~pasted]).all()
        px = new_image[pasted].astype(np.float64)
        # a re-lit patch of the two colours: each pixel's chromaticity is that of one of them
        chroma = px / np.maximum(px.sum(1, keepdims=True), 1)
        dists = [
            np.abs(chroma - c / c.sum()).max(1)
            for c in (np.array([200.0, 100, 50]), np.array([20.0, 40, 160]))
        ]
        from_image = np.minimum(*dists) < 0.03
        seen_image_texture |= bool(from_image.mean() > 0.9)
        if texture == "image":
            assert from_image.mean() > 0.9
    assert seen_image_texture


def test_image_texture_shape_range_and_no_unknown_pixels():
    rng = np.random.default_rng(0)
    image = np.random.default_rng(1).integers(0, 200, (17, 23, 3)).astype(np.uint8)
    image[..., 2] = 0
    sem = np.zeros((17, 23), np.uint8)
    sem[:, 15:] = UNKNOWN_LABEL
    image[:, 15:, 2] = 255  # the unknown object: the only pixels with any blue
    mask = np.zeros((17, 23), bool)
    mask[5:9, 5:9] = True
    got = 0
    for _ in range(30):
        t = image_texture(rng, image, sem, mask)
        if t is None:
            continue
        got += 1
        assert t.shape == (17, 23, 3) and t.dtype == np.float32
        assert t.min() >= 0 and t.max() <= 255
        assert (t[mask][:, 2] == 0).all()  # no unknown pixel, nor a blend of one
    assert got > 0
    # nothing but unknown pixels: no offset qualifies, the texture falls back to synthetic
    assert image_texture(rng, image, np.full_like(sem, UNKNOWN_LABEL), mask) is None
    paste = OutlierPaste(N, prob=1.0, texture="image")
    new_image, new_sem = paste(image, np.full_like(sem, UNKNOWN_LABEL))
    assert (new_sem == N).any()


def test_unknown_texture_kind_raises():
    with pytest.raises(ValueError, match="OUTLIER_PASTE.TEXTURE"):
        OutlierPaste(N, texture="photo")
