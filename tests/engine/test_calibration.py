"""Calibration of post-processing settings on cached maps (goss/engine/calibration.py)."""

import itertools
import math

import numpy as np
import pytest
import torch

from detectron2.data import MetadataCatalog
from goss.config import get_goss_cfg
from goss.engine.calibration import (
    MapCache,
    _setting_cfg,
    calibrate,
    evaluate_settings,
    write_calibrated_config,
)
from goss.evaluation import GQAccumulator
from tests.common import CONFIGS, small_goss_cfg

N = 2


def _logit(p):
    """Two-class logits whose softmax has maximum ``p`` on class 0."""
    return math.log(p / (1 - p))


def _synthetic_cache(num=3, cache_dir=None, max_bytes=1 << 30):
    """
    Images whose known pixels (class 0 left, class 1 right) have MSP 0.8 and whose unknown
    square has MSP 0.72: every threshold in (0.72, 0.8] identifies it exactly.
    """
    cache = MapCache(max_bytes, cache_dir)
    for k in range(num):
        h, w = 24, 32
        gt = np.ones((h, w), np.int64)
        gt[:, w // 2 :] = 2
        gt[6 + k : 14 + k, 10:20] = 3
        segs = [
            {"id": 1, "category_id": 0},
            {"id": 2, "category_id": 1},
            {"id": 3, "category_id": N},
        ]
        logits = torch.zeros(N, h, w)
        logits[0][torch.from_numpy(gt == 1)] = _logit(0.8)
        logits[1][torch.from_numpy(gt == 2)] = _logit(0.8)
        logits[0][torch.from_numpy(gt == 3)] = _logit(0.72)
        field = torch.zeros(2, h, w)
        field[0] = 1.0
        cache.add(logits, field, (h, w), gt, {"image_id": k, "segments_info": segs})
    return cache


def _cfg():
    cfg = small_goss_cfg(num_known=N, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.MSP_THRESHOLD = 0.5
    return cfg


def test_recovers_the_known_best_threshold():
    best, sweep = calibrate(_cfg(), _synthetic_cache(), "msp", "connected_components", False)
    # the first threshold of the grid inside (0.72, 0.8]
    assert best["settings"]["MODEL.GOSS.MSP_THRESHOLD"] == 0.75
    assert best["GQ"] == pytest.approx(100.0)
    thresholds = {
        r["settings"]["MODEL.GOSS.MSP_THRESHOLD"]: r["GQ"]
        for r in sweep
        if r["stage"] == "identification"
    }
    assert thresholds[0.8] == pytest.approx(100.0)  # also exact: ties keep the first
    assert thresholds[0.7] < 100.0 and thresholds[0.85] < 100.0


def test_a_sweep_row_equals_a_direct_evaluation():
    cache = _synthetic_cache()
    _, sweep = calibrate(_cfg(), cache, "msp", "none", False)
    row = next(r for r in sweep if r["settings"]["MODEL.GOSS.MSP_THRESHOLD"] == 0.5)
    # threshold 0.5: nothing unknown, every known class found
    acc = GQAccumulator(N)
    for _, _, _, gt, record in cache:
        segs = [s for s in record["segments_info"] if s["category_id"] < N]
        pred = np.where(gt == 3, 1, gt)  # the unknown square becomes class 0
        acc.add_image(record["image_id"], gt, record["segments_info"], pred, segs)
    expected = acc.summarize(bootstrap_samples=0)[0]
    assert row["GQ"] == pytest.approx(expected["GQ"])
    assert row["GQ_uk"] == 0.0


def test_cache_spills_to_disk_and_cleans_up(tmp_path):
    in_memory = list(_synthetic_cache())
    cache = _synthetic_cache(cache_dir=str(tmp_path), max_bytes=1)
    assert cache.nbytes == 0 and len(list(tmp_path.iterdir())) == 1
    for (a_lg, a_fd, a_im, a_gt, a_rec), (b_lg, b_fd, b_im, b_gt, b_rec) in zip(in_memory, cache):
        assert torch.equal(a_lg, b_lg) and torch.equal(a_fd, b_fd)
        assert (a_im is None and b_im is None) or torch.equal(a_im, b_im)
        assert np.array_equal(a_gt, b_gt) and a_rec == b_rec
    cache.close()
    assert list(tmp_path.iterdir()) == []


def test_cache_over_its_bound_without_a_folder_is_an_error():
    with pytest.raises(MemoryError, match="--max-cache-mb"):
        _synthetic_cache(max_bytes=1)


def test_unknown_identifier_or_clusterer_is_an_error():
    with pytest.raises(ValueError, match="identifier 'nope'"):
        calibrate(_cfg(), _synthetic_cache(1), "nope", "none", False)
    with pytest.raises(ValueError, match="clusterer 'nope'"):
        calibrate(_cfg(), _synthetic_cache(1), "msp", "nope", False)


def test_calibrated_config_loads_with_its_base(tmp_path):
    base = CONFIGS / "goss_shapes" / "n_mobilenet_v2.yaml"
    cfg = get_goss_cfg(str(base), ["MODEL.GOSS.MSP_THRESHOLD", "0.85", "INPUT.MIN_SIZE_TEST", "64"])
    path = tmp_path / "sub" / "msp_none.yaml"
    path.parent.mkdir()
    keys = ["MODEL.GOSS.MSP_THRESHOLD", "INPUT.MIN_SIZE_TEST", "MODEL.BPD_HEAD.POSTPROCESS.THETA_A"]
    write_calibrated_config(str(path), str(base), cfg, keys, "calibrated\non a test")
    text = path.read_text()
    assert text.startswith("# calibrated\n# on a test\n")
    loaded = get_goss_cfg(str(path))
    assert loaded.MODEL.GOSS.MSP_THRESHOLD == 0.85
    assert loaded.INPUT.MIN_SIZE_TEST == 64
    # everything else comes from the base config
    assert (
        loaded.MODEL.GOSS.NUM_KNOWN_CLASSES == get_goss_cfg(str(base)).MODEL.GOSS.NUM_KNOWN_CLASSES
    )


def test_evaluate_settings_writes_every_metric(tmp_path):
    name = "goss_calibration_test"
    if name not in MetadataCatalog.list():
        MetadataCatalog.get(name).set(stuff_classes=["a", "b", "unknown"], label_divisor=1000)
    from PIL import Image

    from goss.utils.panoptic_ids import id2rgb

    cache = MapCache(1 << 30)
    for k, (lg, fd, _, gt, record) in enumerate(_synthetic_cache()):
        png = tmp_path / f"{k}.png"
        Image.fromarray(id2rgb(gt)).save(png)
        cache.add(lg, fd, gt.shape, gt, dict(record, pan_seg_file_name=str(png), file_name=f"{k}"))
    settings = {"MODEL.GOSS.MSP_THRESHOLD": 0.75, "MODEL.GOSS.UNKNOWN_CLUSTERING": "none"}
    res = evaluate_settings(_cfg(), cache, settings, name, str(tmp_path / "eval"), False)
    assert res["GQ"] == pytest.approx(100.0)
    assert "GQ_uk_oracle_id_one_segment" in res and "AUROC" in res
    assert (tmp_path / "eval" / "gq_results.json").is_file()


def test_fast_segments_equal_the_evaluator_segments():
    from goss.engine.calibration import _goss_segments
    from goss.evaluation import panoptic_to_segments
    from goss.modeling.postprocessing import get_goss_segmentation

    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        sem = torch.randint(0, 4, (30, 40), generator=gen)
        clusters = torch.randint(0, 7, (30, 40), generator=gen)
        pan = get_goss_segmentation(sem, clusters, num_known=3, known_min_area=30)
        expected = panoptic_to_segments(pan.numpy(), 1000, 4)
        got = _goss_segments(pan, 3, 1000)
        assert sorted((s["id"], s["category_id"]) for s in got) == sorted(
            (s["id"], s["category_id"]) for s in expected
        )


def test_ties_keep_the_configured_value():
    # with connected components every threshold in (0.72, 0.8] is exact; 0.8 is configured
    cfg = _cfg()
    cfg.MODEL.GOSS.MSP_THRESHOLD = 0.8
    best, _ = calibrate(cfg, _synthetic_cache(), "msp", "connected_components", False)
    assert best["settings"]["MODEL.GOSS.MSP_THRESHOLD"] == 0.8
    # min areas have no effect here: the configured 0 stays
    assert best["settings"]["MODEL.GOSS.UNKNOWN_MIN_AREA"] == 0


def test_energy_grid_is_quantiles_of_the_cached_scores():
    # known pixels: logsumexp(log .8/.2, 0) = log 5; unknown: log(.72/.28 + 1) = 1.27 < log 5
    cache = _synthetic_cache()
    best, sweep = calibrate(_cfg(), cache, "energy", "connected_components", False)
    values = [
        r["settings"]["MODEL.GOSS.ENERGY_THRESHOLD"]
        for r in sweep
        if r["stage"] == "identification"
    ]
    low = math.log(1 / 0.28)
    assert all(low - 1e-3 <= v <= math.log(5) + 1e-3 for v in values)
    assert best["GQ"] == pytest.approx(100.0)  # a quantile above the unknown square's score
    assert low < best["settings"]["MODEL.GOSS.ENERGY_THRESHOLD"] <= math.log(5) + 1e-3


def _images_cache(with_images=True):
    """The synthetic cache with input images: the unknown square bright, the rest dark."""
    cache = MapCache(1 << 30)
    for logits, field, _, gt, record in _synthetic_cache():
        image = torch.full((3,) + gt.shape, 30.0)
        image[:, torch.from_numpy(gt == 3)] = 220.0
        cache.add(logits, field, gt.shape, gt, record, image=image if with_images else None)
    return cache


def test_felzenszwalb_calibrates_on_the_cached_images():
    best, sweep = calibrate(_cfg(), _images_cache(), "msp", "felzenszwalb", False)
    assert any("MODEL.FELZENSZWALB.SCALE" in r["settings"] for r in sweep)
    assert best["GQ"] == pytest.approx(100.0)  # the square is one colour segment
    with pytest.raises(ValueError, match="reads the image"):
        calibrate(_cfg(), _images_cache(False), "msp", "felzenszwalb", False)


def test_pairs_the_model_cannot_feed_are_refused():
    with pytest.raises(ValueError, match="MODEL.DML.ENABLED"):
        calibrate(_cfg(), _synthetic_cache(), "dml", "none", False)
    with pytest.raises(ValueError, match="CLUSTERING_BRANCH"):
        calibrate(_cfg(), _synthetic_cache(), "msp", "dfc", False)


def _field_cache():
    """
    The synthetic images with a noisy BPD field of their GT regions: the Super-BPD thresholds
    decide how well its whole-image partition matches the GT (GQ_clu).
    """
    from goss.data.bpd_targets import compute_bpd_targets

    rng = np.random.default_rng(0)
    cache = MapCache(1 << 30)
    for logits, _, _, gt, record in _synthetic_cache():
        field, _ = compute_bpd_targets(gt.astype(np.int64), ignore_label=-1)
        field = field / np.maximum(np.linalg.norm(field, axis=0, keepdims=True), 1e-6)
        field = field + rng.normal(0, 0.2, field.shape)
        cache.add(logits, torch.as_tensor(field, dtype=torch.float32), gt.shape, gt, record)
    return cache


def _gq_clu(cache, settings):
    """GQ_clu of the Super-BPD partition with ``settings``' thresholds, computed directly."""
    from goss.evaluation.clustering import clustering_stats
    from goss.evaluation.metrics import class_agnostic_quality
    from goss.layers import super_bpd

    p = "MODEL.BPD_HEAD.POSTPROCESS."
    total = None
    for _, field, _, gt, record in cache:
        part = super_bpd(
            field,
            theta_a=settings[p + "THETA_A"],
            theta_l=settings[p + "THETA_L"],
            theta_s=settings[p + "THETA_S"],
            s_o=5.0,
        )
        s = clustering_stats(gt, record["segments_info"], part.numpy())
        total = s if total is None else total + s
    return 100.0 * class_agnostic_quality(total)["GQ_clu"]


def test_partition_objective_chooses_the_super_bpd_thresholds_by_gq_clu():
    from goss.engine.calibration import CLUSTERER_GRIDS, PARTITION_GRID

    cache = _field_cache()
    best, sweep = calibrate(
        _cfg(), cache, "msp", "split_components", False, partition_objective="GQ_clu"
    )
    stage = [r for r in sweep if r["stage"] == "split_components 1"]
    keys = list(PARTITION_GRID)
    tried = [tuple(r["settings"][k] for k in keys) for r in stage]
    assert sorted(tried) == sorted(itertools.product(*PARTITION_GRID.values()))
    values = [r["GQ_clu"] for r in stage]
    assert max(values) > min(values)  # the thresholds matter on this field
    chosen = tuple(best["settings"][k] for k in keys)
    assert chosen == tried[values.index(max(values))]
    assert max(values) == pytest.approx(_gq_clu(cache, best["settings"]))
    # the default objective searches the clusterer's own grid by GQ, without GQ_clu
    _, sweep = calibrate(_cfg(), cache, "msp", "split_components", False)
    stage = [r for r in sweep if r["stage"] == "split_components 1"]
    assert len(stage) == len(
        list(itertools.product(*CLUSTERER_GRIDS["split_components"][0].values()))
    )
    assert not any("GQ_clu" in r for r in stage)
    with pytest.raises(ValueError, match="partition objective"):
        calibrate(_cfg(), cache, "msp", "split_components", False, partition_objective="PQ")


def _bridged_cache(num=2):
    """
    Two touching unknown objects A and B whose shared border is less confidently unknown
    (MSP 0.7) than their insides (0.6), and a faint unknown object C (MSP 0.72): a threshold
    that finds C joins A and B (MSP < 0.72), one that keeps them apart loses C.
    """
    cache = MapCache(1 << 30)
    for k in range(num):
        h, w = 24, 32
        gt = np.ones((h, w), np.int64)
        gt[4:12, 2:7] = 3  # A
        gt[4:12, 7:12] = 4  # B
        gt[16:20, 20 + k : 24 + k] = 5  # C
        segs = [{"id": 1, "category_id": 0}] + [{"id": i, "category_id": N} for i in (3, 4, 5)]
        msp = np.full((h, w), 0.8)
        msp[gt >= 3] = 0.6
        msp[4:12, 6:8] = 0.7
        msp[gt == 5] = 0.72
        logits = torch.zeros(N, h, w)
        logits[0] = torch.from_numpy(np.log(msp / (1 - msp))).float()
        cache.add(logits, torch.zeros(2, h, w), (h, w), gt, {"image_id": k, "segments_info": segs})
    return cache


def test_seeded_components_splits_what_no_threshold_can():
    cache = _bridged_cache()
    cc, _ = calibrate(_cfg(), cache, "msp", "connected_components", False)
    seeded, sweep = calibrate(_cfg(), cache, "msp", "seeded_components", False)
    assert cc["GQ_uk"] < 70.0  # two of the three objects at best
    assert seeded["GQ_uk"] == pytest.approx(100.0)
    settings = seeded["settings"]
    assert settings["MODEL.GOSS.MSP_THRESHOLD"] > 0.72 and settings["MODEL.GOSS.SEED_QUANTILE"] > 0
    assert {r["stage"] for r in sweep} >= {"seeded_components 1", "seeded_components 2"}


def _two_pairs_cache(num=2):
    """
    Two pairs of touching unknown objects, each pair joined by a band less confidently unknown
    than its objects; the second pair's objects are less confident than the first pair's band,
    so no quantile of the whole image's scores seeds both pairs apart, and one per component does.
    """
    cache = MapCache(1 << 30)
    for k in range(num):
        h, w = 20, 32
        gt = np.ones((h, w), np.int64)
        gt[2:6, 2:7], gt[2:6, 7:14] = 3, 4  # A | B, whose first two columns are the band
        gt[12:16, 2 + k : 7 + k], gt[12:16, 7 + k : 14 + k] = 5, 6
        segs = [{"id": 1, "category_id": 0}] + [{"id": i, "category_id": N} for i in (3, 4, 5, 6)]
        msp = np.full((h, w), 0.95)
        msp[2:6, 2:14] = 0.6
        msp[2:6, 7:9] = 0.7
        msp[12:16, 2 + k : 14 + k] = 0.81
        msp[12:16, 7 + k : 9 + k] = 0.83
        logits = torch.zeros(N, h, w)
        logits[0] = torch.from_numpy(np.log(msp / (1 - msp))).float()
        cache.add(logits, torch.zeros(2, h, w), (h, w), gt, {"image_id": k, "segments_info": segs})
    return cache


def test_seed_scopes_add_the_per_component_quantile(monkeypatch):
    import goss.engine.calibration as calibration

    cache = _two_pairs_cache()
    # identification fixed where every object is unknown (a threshold between the pairs' bands
    # and insides would split them by itself)
    monkeypatch.setitem(
        calibration.IDENTIFICATION_GRIDS, "msp", {"MODEL.GOSS.MSP_THRESHOLD": [0.9]}
    )
    scope = "MODEL.GOSS.SEED_SCOPE"
    image, sweep = calibrate(_cfg(), cache, "msp", "seeded_components", False)
    assert not any(scope in r["settings"] for r in sweep)
    both, sweep = calibrate(
        _cfg(), cache, "msp", "seeded_components", False, seed_scopes=["image", "component"]
    )
    stage = [r for r in sweep if r["stage"] == "seeded_components 1"]
    assert {r["settings"][scope] for r in stage} == {"image", "component"}
    # the image's quantile keeps one pair whole at best; each component's splits both
    assert both["settings"][scope] == "component" and both["GQ_uk"] > image["GQ_uk"] + 10.0
    assert both["GQ_uk"] > 80.0


def test_field_sigmas_add_a_smoothing_stage_scored_by_the_partition_objective():
    cache = _field_cache()
    sigma = "MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA"
    best, sweep = calibrate(
        _cfg(),
        cache,
        "msp",
        "split_components",
        False,
        partition_objective="GQ_clu",
        field_sigmas=[0, 1, 2],
    )
    stage = [r for r in sweep if r["stage"] == "split_components 2"]
    assert [r["settings"][sigma] for r in stage] == [0.0, 1.0, 2.0]
    values = [r["GQ_clu"] for r in stage]
    assert best["settings"][sigma] == [0.0, 1.0, 2.0][values.index(max(values))]
    # the thresholds stage comes first, the piece size after
    assert {r["stage"] for r in sweep} >= {"split_components 1", "split_components 3"}
    assert not any(sigma in r["settings"] for r in sweep if r["stage"] == "split_components 1")
    # by GQ without the partition objective; no stage for a clusterer without Super-BPD
    _, sweep = calibrate(_cfg(), cache, "msp", "split_components", False, field_sigmas=[0, 1])
    stage = [r for r in sweep if r["stage"] == "split_components 2"]
    assert len(stage) == 2 and not any("GQ_clu" in r for r in stage)
    _, sweep = calibrate(_cfg(), cache, "msp", "connected_components", False, field_sigmas=[1])
    assert not any(sigma in r["settings"] for r in sweep)


class _StandInScorer:
    """
    A stand-in for the calibration's scorer (``calibration._Scorer``): every metric of a setting
    is ``quality(cfg)`` of its config, GQ_clu too where the partition's quality is asked for.
    """

    def __init__(self, base_cfg, cache, progress=True):
        self.num_known = base_cfg.MODEL.GOSS.NUM_KNOWN_CLASSES
        self.base_cfg = base_cfg

    def score(self, settings_list, desc="sweep", partition_quality=False):
        out = []
        for s in settings_list:
            q = self.quality(_setting_cfg(self.base_cfg, s))
            row = {"GQ": q, "GQ_kn": q, "GQ_uk": q, "SQ_uk": 0.0, "RQ_uk": 0.0}
            if partition_quality:
                row["GQ_clu"] = q
            out.append(row)
        return out


class _InteractingScorer(_StandInScorer):
    """
    GQ couples the seed size and the unknown minimum area: small seeds are best while no
    minimum area drops their fragments, large seeds once one does. One round of coordinate
    ascent settles on small seeds; a second finds large ones.
    """

    @staticmethod
    def quality(cfg):
        g = cfg.MODEL.GOSS
        gq = 10.0 + 2.0 * (g.UNKNOWN_MIN_AREA == 256)
        gq += 1.0 * (g.SEED_MIN_AREA == 16 and g.UNKNOWN_MIN_AREA == 0)
        return gq + 5.0 * (g.SEED_MIN_AREA == 4096 and g.UNKNOWN_MIN_AREA == 256)


def test_more_rounds_revisit_the_clusterer_given_the_minimum_areas(monkeypatch):
    import goss.engine.calibration as calibration

    monkeypatch.setattr(calibration, "_Scorer", _InteractingScorer)
    seed, area = "MODEL.GOSS.SEED_MIN_AREA", "MODEL.GOSS.UNKNOWN_MIN_AREA"
    one, sweep = calibrate(_cfg(), None, "msp", "seeded_components", False)
    assert (one["settings"][seed], one["settings"][area], one["GQ"]) == (16, 256, 12.0)
    assert not any("round" in r["stage"] for r in sweep)
    best, sweep = calibrate(_cfg(), None, "msp", "seeded_components", False, rounds=5)
    assert (best["settings"][seed], best["settings"][area], best["GQ"]) == (4096, 256, 17.0)
    stages = [r["stage"] for r in sweep]
    # round 2 changes the seed size, round 3 nothing, so no round 4 is searched
    assert "seeded_components 2 (round 2)" in stages and "min areas (round 3)" in stages
    assert not any("round 4" in s for s in stages)
    assert "identification (round 2)" not in stages  # the first stage is not repeated as such
    with pytest.raises(ValueError, match="rounds"):
        calibrate(_cfg(), None, "msp", "seeded_components", False, rounds=0)


class _SmoothPartitionScorer(_StandInScorer):
    """
    GQ_clu (and, without the partition objective, GQ) peaks at Super-BPD thresholds between the
    grids' values: theta_a 52, theta_l 125, theta_s 80 (within the range of both grids).
    """

    PEAK = {"THETA_A": 52.0, "THETA_L": 125.0, "THETA_S": 80.0}

    @classmethod
    def quality(cls, cfg):
        pp = cfg.MODEL.BPD_HEAD.POSTPROCESS
        return 30.0 - sum(((pp[k] - v) / 10.0) ** 2 for k, v in cls.PEAK.items())


@pytest.mark.parametrize(
    "clusterer,objective", [("split_components", "GQ_clu"), ("super_bpd", "GQ")]
)
def test_refinements_search_the_thresholds_between_the_grid_values(
    monkeypatch, clusterer, objective
):
    import goss.engine.calibration as calibration

    monkeypatch.setattr(calibration, "_Scorer", _SmoothPartitionScorer)
    pp = "MODEL.BPD_HEAD.POSTPROCESS."
    peak = {pp + k: v for k, v in _SmoothPartitionScorer.PEAK.items()}

    def distance(settings):
        return sum(abs(settings[k] - v) for k, v in peak.items())

    def quality(settings):  # the stand-in's objective
        return _SmoothPartitionScorer.quality(_setting_cfg(_cfg(), settings))

    run = lambda n: calibrate(  # noqa: E731
        _cfg(), None, "msp", clusterer, False, partition_objective=objective, refinements=n
    )
    coarse, sweep = run(0)
    assert not any("refinement" in r["stage"] for r in sweep)
    grid = [r for r in sweep if r["stage"] == f"{clusterer} 1"]
    tried = [r["settings"] for r in sweep if set(peak) <= set(r["settings"])]
    assert all(t[k] in {g["settings"][k] for g in grid} for t in tried for k in peak)
    fine, sweep = run(6)
    refined = [r for r in sweep if "refinement" in r["stage"]]
    assert {r["stage"] for r in refined} == {f"{clusterer} 1 refinement {n}" for n in range(1, 7)}
    # a refinement tries values between the grid's, never beyond its ends
    for k in peak:
        values = [g["settings"][k] for g in grid]
        assert all(min(values) <= r["settings"][k] <= max(values) for r in refined)
    assert any(
        r["settings"][k] not in {g["settings"][k] for g in grid} for r in refined for k in peak
    )
    # it only ever raises the objective, and here ends far nearer the peak than the grid did
    assert quality(fine["settings"]) > quality(coarse["settings"])
    best_so_far = max(quality(g["settings"]) for g in grid)
    for n in range(1, 7):  # a refinement keeps the best unless one of its points beats it
        rows = [r for r in refined if r["stage"].endswith(f"refinement {n}")]
        best_so_far = max([best_so_far] + [r[objective] for r in rows])
    assert quality(fine["settings"]) == pytest.approx(best_so_far)
    assert distance(fine["settings"]) < distance(coarse["settings"]) / 3
    with pytest.raises(ValueError, match="refinements"):
        calibrate(_cfg(), None, "msp", clusterer, False, refinements=-1)
