"""GQ_clu (class-agnostic, GT split into 8-connected components) and bootstrap intervals."""

import numpy as np
import pytest

from goss.evaluation.accumulator import GQAccumulator
from goss.evaluation.bootstrap import bootstrap_clu, bootstrap_gq
from goss.evaluation.clustering import clustering_stats, gt_component_partition
from goss.evaluation.metrics import class_agnostic_quality, gq_summary
from goss.evaluation.stats import GQStats, image_stats
from goss.utils.reference.synthetic import random_pair

GT = np.array(
    [
        [5, 5, 0, 5, 5],
        [5, 5, 0, 5, 5],
        [7, 7, 7, 0, 9],
        [7, 7, 7, 0, 9],
    ]
)
SEGS = [{"id": 5, "category_id": 0}, {"id": 7, "category_id": 1}, {"id": 9, "category_id": 2}]


def test_components_are_8_connected_per_segment():
    idx = np.searchsorted([0, 5, 7, 9], GT)
    comps = gt_component_partition(idx)
    assert len(np.unique(comps[GT == 5])) == 2  # two separate blobs of segment 5
    diag = np.array([[1, 0], [0, 1]])
    assert len(np.unique(gt_component_partition(diag)[diag == 1])) == 1  # diagonal = connected
    assert (comps[GT == 0] == 0).all()


def test_gq_clu_perfect_and_merged():
    perfect = np.array([[1, 1, -1, 2, 2], [1, 1, -1, 2, 2], [3, 3, 3, -1, 4], [3, 3, 3, -1, 4]])
    r = class_agnostic_quality(clustering_stats(GT, SEGS, perfect))
    assert r["GQ_clu"] == pytest.approx(1.0)
    # one cluster for both blobs of segment 5: IoU 4/8 = 0.5 for each -> no match
    merged = np.where(perfect == 2, 1, perfect)
    s = clustering_stats(GT, SEGS, merged)
    assert s.tp[0] == 2 and s.fn[0] == 2 and s.fp[0] == 1
    # categories are ignored: everything is one class
    assert class_agnostic_quality(s)["GQ_clu"] == pytest.approx(2 / (2 + 0.5 + 1))


def test_gq_clu_size_mismatch_names_image():
    with pytest.raises(ValueError, match="im3.*differ in size"):
        clustering_stats(GT, SEGS, np.zeros((2, 2)), where="im3")


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    per = [image_stats(*random_pair(rng), 5) for _ in range(12)]
    arr = np.stack([s.as_array() for s in per])
    a = bootstrap_gq(arr, 4, num_samples=300, seed=1)
    b = bootstrap_gq(arr, 4, num_samples=300, seed=1)
    assert a == b
    assert a != bootstrap_gq(arr, 4, num_samples=300, seed=2)
    point = gq_summary(sum(per, GQStats(5)), 4)
    lo, hi = a["GQ"]
    assert lo <= point["GQ"] <= hi and lo < hi
    # a single image repeated: no spread
    one = bootstrap_gq(np.repeat(arr[:1], 5, axis=0), 4, num_samples=50)
    assert one["GQ_uk"][0] == pytest.approx(one["GQ_uk"][1])


def _clustered_images(num=10, seed=0):
    """(gt, segs, partition) triples: the GT blobs, some clustered right, some merged or cut."""
    rng = np.random.default_rng(seed)
    perfect = np.array([[1, 1, -1, 2, 2], [1, 1, -1, 2, 2], [3, 3, 3, -1, 4], [3, 3, 3, -1, 4]])
    out = []
    for _ in range(num):
        part = perfect.copy()
        if rng.random() < 0.5:
            part = np.where(part == 2, 1, part)  # two blobs in one cluster
        if rng.random() < 0.5:
            part[2:, :2] = 5  # segment 7 cut in two
        out.append((GT, SEGS, part))
    return out


def test_gq_clu_bootstrap_brackets_the_estimate_and_reaches_the_results():
    images = _clustered_images()
    per = [clustering_stats(*im) for im in images]
    arr = np.stack([s.as_array() for s in per])
    a = bootstrap_clu(arr, num_samples=300, seed=1)
    assert a == bootstrap_clu(arr, num_samples=300, seed=1)
    point = class_agnostic_quality(sum(per, GQStats(1)))["GQ_clu"]
    lo, hi = a["GQ_clu"]
    assert lo <= point <= hi and lo < hi
    one = bootstrap_clu(np.repeat(arr[:1], 5, axis=0), num_samples=50)
    assert one["GQ_clu"][0] == pytest.approx(one["GQ_clu"][1])
    # the accumulator reports it beside GQ's, from the same replicates (same images and seed)
    acc = GQAccumulator(3, diagnostics=False)
    for k, (gt, segs, part) in enumerate(images):
        acc.add_image(k, gt, segs, gt, segs, clusters=part)
    res, _ = acc.summarize(bootstrap_samples=300, seed=1)
    assert res["GQ_clu"] == pytest.approx(100 * point)
    assert res["GQ_clu_CI95"] == pytest.approx([100 * lo, 100 * hi])
    plain = GQAccumulator(3, diagnostics=False)  # no partitions: no GQ_clu, no interval
    plain.add_image(0, GT, SEGS, GT, SEGS)
    res, _ = plain.summarize(bootstrap_samples=50)
    assert "GQ_CI95" in res and "GQ_clu_CI95" not in res
