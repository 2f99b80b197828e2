"""The seeded_components clusterer: alone, in the fusion, the oracle diagnostic, calibration."""

import numpy as np
import pytest
import torch

from goss.engine.calibration import CLUSTERER_GRIDS
from goss.evaluation import GQAccumulator
from goss.layers import connected_components
from goss.modeling.clustering import SeededComponentsClusterer, build_unknown_clusterer
from goss.modeling.postprocessing import GOSSFusion
from tests.common import small_goss_cfg


def _bridged():
    """Two unknown objects (columns 1-3 and 8-10) joined by a band of low unknown score."""
    mask = torch.zeros(8, 12, dtype=torch.bool)
    mask[2:6, 1:11] = True
    score = torch.zeros(8, 12)
    score[2:6, 1:4] = 0.9
    score[2:6, 8:11] = 0.8
    score[2:6, 4:8] = torch.tensor([0.5, 0.3, 0.35, 0.6])  # the valley at column 5
    return mask, score


def test_a_low_score_band_splits_the_component_at_its_valley():
    mask, score = _bridged()
    labels = SeededComponentsClusterer(quantile=0.5, min_area=4)(mask, unknown_score=score)
    assert labels.dtype == torch.int64
    assert set(labels.unique().tolist()) == {0, 1, 2}
    assert bool((labels[~mask] == 0).all()) and bool((labels[mask] > 0).all())
    left, right = labels[2, 1], labels[2, 10]
    assert left != right
    # the flood from the higher scores meets at the lowest column
    assert bool((labels[2:6, 1:6] == left).all()) and bool((labels[2:6, 6:11] == right).all())


def test_the_quantile_is_of_the_scores_rank():
    mask, score = _bridged()
    clusterer = SeededComponentsClusterer(quantile=0.5, min_area=4)
    ref = clusterer(mask, unknown_score=score)
    for scaled in (score * 7.0, score - 100.0, torch.log(score + 1e-3)):
        assert torch.equal(clusterer(mask, unknown_score=scaled), ref)


def test_quantile_zero_gives_the_connected_components():
    gen = torch.Generator().manual_seed(0)
    mask = torch.rand(40, 50, generator=gen) > 0.55
    score = torch.rand(40, 50, generator=gen)
    labels = SeededComponentsClusterer(quantile=0.0, min_area=1)(mask, unknown_score=score)
    assert torch.equal(labels, connected_components(mask))


def test_small_seeds_and_seedless_components():
    mask, score = _bridged()
    mask[7, 0:3] = True  # a third component, all of it below the seed level
    score[7, 0:3] = 0.01
    clusterer = SeededComponentsClusterer(quantile=0.5, min_area=4)
    labels = clusterer(mask, unknown_score=score)
    assert len(labels[7, 0:3].unique()) == 1 and int(labels[7, 0]) not in (0, labels[2, 1])
    assert len(labels.unique()) == 4  # 0, the two objects, the seedless component
    # seeds smaller than min_area are none: with 13 px both 12 px seeds go, and the bridged
    # component, seedless, is one segment
    labels = SeededComponentsClusterer(quantile=0.5, min_area=13)(mask, unknown_score=score)
    assert labels[2, 1] == labels[2, 10]


def test_every_mask_pixel_gets_a_segment_and_ids_are_consecutive():
    gen = torch.Generator().manual_seed(1)
    mask = torch.rand(30, 30, generator=gen) > 0.3
    score = torch.rand(30, 30, generator=gen)
    labels = SeededComponentsClusterer(quantile=0.8, min_area=1)(mask, unknown_score=score)
    assert bool((labels[mask] > 0).all()) and bool((labels[~mask] == 0).all())
    ids = labels[mask].unique()
    assert torch.equal(ids, torch.arange(1, len(ids) + 1))
    full = torch.ones(5, 5, dtype=torch.bool)
    out = SeededComponentsClusterer(quantile=0.5, min_area=1)(full, unknown_score=score[:5, :5])
    assert int(out.min()) == 1
    empty = torch.zeros(5, 5, dtype=torch.bool)
    assert SeededComponentsClusterer()(empty, unknown_score=score[:5, :5]).sum() == 0


def test_bad_input_names_the_key_or_argument():
    mask, score = _bridged()
    with pytest.raises(ValueError, match="needs the unknown score"):
        SeededComponentsClusterer()(mask)
    with pytest.raises(ValueError, match="differ in shape"):
        SeededComponentsClusterer()(mask, unknown_score=score[:, :5])
    with pytest.raises(ValueError, match="MODEL.GOSS.SEED_QUANTILE"):
        SeededComponentsClusterer(quantile=1.0)
    with pytest.raises(ValueError, match="MODEL.GOSS.SEED_MIN_AREA"):
        SeededComponentsClusterer(min_area=0)


def _cfg():
    cfg = small_goss_cfg(num_known=1, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "seeded_components"
    cfg.MODEL.GOSS.SEED_QUANTILE = 0.5
    cfg.MODEL.GOSS.SEED_MIN_AREA = 4
    return cfg


def test_built_from_the_config():
    clusterer = build_unknown_clusterer(_cfg())
    assert isinstance(clusterer, SeededComponentsClusterer)
    assert (clusterer.quantile, clusterer.min_area) == (0.5, 4)


def test_the_fusion_hands_it_the_identifiers_score():
    mask, score = _bridged()
    fusion = GOSSFusion.from_config(_cfg())
    labels = torch.where(mask, 1, 0)  # N = 1: label 1 is unknown
    logits = torch.zeros(1, *mask.shape)
    out = fusion(logits, None, (labels, score), probabilities=False)
    pan = out["panoptic_seg"][0]
    unknown_ids = pan[pan >= fusion.label_divisor].unique()
    assert len(unknown_ids) == 2
    assert "clusters" not in out  # no whole-image partition


def test_the_oracle_row_clusters_the_gt_mask_by_the_models_score():
    # GT: the two objects of _bridged; the model finds them bridged, as one segment
    mask, score = _bridged()
    gt = np.ones(mask.shape, np.int64)
    gt[2:6, 1:4] = 2
    gt[2:6, 8:11] = 3
    segs = [{"id": 1, "category_id": 0}] + [{"id": i, "category_id": 1} for i in (2, 3)]
    pred = np.where(mask.numpy(), 1001, 5)
    pred_segs = [{"id": 5, "category_id": 0}, {"id": 1001, "category_id": 1}]
    clusterer = SeededComponentsClusterer(quantile=0.5, min_area=4)
    acc = GQAccumulator(1)
    acc.add_image(0, gt, segs, pred, pred_segs, unknown_score=score.numpy(), clusterer=clusterer)
    res, _ = acc.summarize(bootstrap_samples=0)
    assert res["GQ_uk_oracle_id_model_clusters"] == pytest.approx(100.0)
    # without the score there is no such row
    acc = GQAccumulator(1)
    acc.add_image(0, gt, segs, pred, pred_segs, clusterer=clusterer)
    res, _ = acc.summarize(bootstrap_samples=0)
    assert "GQ_uk_oracle_id_model_clusters" not in res


def test_calibration_searches_its_keys():
    keys = {k for stage in CLUSTERER_GRIDS["seeded_components"] for k in stage}
    assert keys == {"MODEL.GOSS.SEED_QUANTILE", "MODEL.GOSS.SEED_MIN_AREA"}
    assert 0.0 in CLUSTERER_GRIDS["seeded_components"][0]["MODEL.GOSS.SEED_QUANTILE"]


def test_component_scope_seeds_a_faint_component_of_its_own():
    mask, score = _bridged()
    # a second bridged pair, far less confident than the first: no seed at the image's level
    mask2, score2 = _bridged()
    mask = torch.cat([mask, mask2])
    score = torch.cat([score, score2 * 0.2])
    image = SeededComponentsClusterer(quantile=0.5, min_area=4)(mask, unknown_score=score)
    assert image[10, 1] == image[10, 10]  # the faint pair stays one segment
    comp = SeededComponentsClusterer(quantile=0.5, min_area=4, scope="component")
    labels = comp(mask, unknown_score=score)
    assert len(labels.unique()) == 5  # 0 and both objects of both pairs
    assert labels[10, 1] != labels[10, 10] and labels[2, 1] != labels[2, 10]
    # with one component both scopes are the same rule
    one, s1 = _bridged()
    for q in (0.2, 0.5, 0.8):
        a = SeededComponentsClusterer(quantile=q, min_area=1)(one, unknown_score=s1)
        b = SeededComponentsClusterer(quantile=q, min_area=1, scope="component")
        assert torch.equal(a, b(one, unknown_score=s1))
    with pytest.raises(ValueError, match="SEED_SCOPE"):
        SeededComponentsClusterer(scope="region")


def test_component_quantiles_equal_numpy_per_component():
    from goss.modeling.clustering.seeded_components import _component_quantiles

    gen = np.random.default_rng(0)
    comp = gen.integers(1, 6, size=200)
    score = gen.random(200).astype(np.float32)
    for q in (0.0, 0.3, 0.75):
        got = _component_quantiles(comp, score, q)
        for c in np.unique(comp):
            np.testing.assert_allclose(got[comp == c], np.quantile(score[comp == c], q), rtol=1e-6)
