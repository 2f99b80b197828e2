"""Diagnostic rows of the GQ pass on toy images with hand-computed answers."""

import numpy as np
import pytest
import torch

from goss.evaluation import GQAccumulator
from goss.modeling.clustering import ConnectedComponentsClusterer, SuperBPDClusterer

N = 1  # known class 0, unknown category 1
KNOWN = {"id": 1, "category_id": 0}


def _toy():
    """GT: unknown A (id 2) touching unknown B (id 3), separate unknown C (id 4)."""
    gt = np.ones((10, 10), np.int64)
    gt[1:4, 1:4] = 2  # A, 9 px
    gt[1:4, 4:7] = 3  # B, 9 px, touches A: one connected component with it
    gt[7:9, 7:9] = 4  # C, 4 px
    segs = [KNOWN] + [{"id": i, "category_id": N} for i in (2, 3, 4)]
    # prediction: A and C identified as unknown, but as one cluster (id 1001); B known
    pred = np.full((10, 10), 5, np.int64)
    pred[gt == 2] = 1001
    pred[gt == 4] = 1001
    pred_segs = [{"id": 5, "category_id": 0}, {"id": 1001, "category_id": N}]
    return gt, segs, pred, pred_segs


def _summary(acc):
    res, _ = acc.summarize(bootstrap_samples=0)
    return res


def test_oracle_and_model_rows():
    gt, segs, pred, pred_segs = _toy()
    # a whole-image partition that separates A, B and C
    clusters = gt.copy()
    acc = GQAccumulator(N)
    acc.add_image(0, gt, segs, pred, pred_segs, pred_void=-1, clusters=clusters)
    res = _summary(acc)
    # the model: one segment A+C matches A (IoU 9/13); B, C missed
    assert (res["TP_uk"], res["FP_uk"], res["FN_uk"]) == (1, 0, 2)
    # its mask split into components: A and C found exactly, B missed: 2 / (2 + 1/2)
    row = "model_id_connected_components"
    assert (res[f"TP_uk_{row}"], res[f"FP_uk_{row}"], res[f"FN_uk_{row}"]) == (2, 0, 1)
    assert res[f"GQ_uk_{row}"] == pytest.approx(80.0)
    # the GT mask as one segment (22 px) matches nothing
    row = "oracle_id_one_segment"
    assert (res[f"TP_uk_{row}"], res[f"FP_uk_{row}"], res[f"FN_uk_{row}"]) == (0, 1, 3)
    assert res[f"GQ_uk_{row}"] == 0.0
    # components of the GT mask: A+B (IoU 9/18 = 0.5 is not > 0.5) and C: 1 / (1 + 1/2 + 2/2)
    row = "oracle_id_connected_components"
    assert (res[f"TP_uk_{row}"], res[f"FP_uk_{row}"], res[f"FN_uk_{row}"]) == (1, 1, 2)
    assert res[f"GQ_uk_{row}"] == pytest.approx(40.0)
    assert res[f"SQ_uk_{row}"] == pytest.approx(100.0)
    # the model's partition on the GT mask separates all three
    assert res["GQ_uk_oracle_id_model_clusters"] == pytest.approx(100.0)


def test_no_spill_row_removes_the_pixels_on_known_ground():
    gt = np.ones((10, 12), np.int64)
    gt[2:6, 1:4] = 2  # unknown A
    gt[2:6, 8:11] = 3  # unknown B, three known columns away
    segs = [KNOWN, {"id": 2, "category_id": N}, {"id": 3, "category_id": N}]
    # the model finds both, bridged by unknown pixels spilt onto the known ground between them
    pred = np.full(gt.shape, 5, np.int64)
    pred[2:6, 1:11] = 1001
    pred_segs = [{"id": 5, "category_id": 0}, {"id": 1001, "category_id": N}]
    acc = GQAccumulator(N)
    acc.add_image(0, gt, segs, pred, pred_segs)
    res = _summary(acc)
    # one component of 40 px: IoU 12/40 with each object
    row = "model_id_connected_components"
    assert (res[f"TP_uk_{row}"], res[f"FP_uk_{row}"], res[f"FN_uk_{row}"]) == (0, 1, 2)
    # off the known ground the bridge is gone: both objects exactly
    row = "model_id_no_spill_connected_components"
    assert (res[f"TP_uk_{row}"], res[f"FP_uk_{row}"], res[f"FN_uk_{row}"]) == (2, 0, 0)
    assert res[f"GQ_uk_{row}"] == pytest.approx(100.0)


def test_oracle_model_clusters_uses_a_mask_clusterer():
    gt, segs, pred, pred_segs = _toy()
    acc = GQAccumulator(N)
    acc.add_image(0, gt, segs, pred, pred_segs, clusterer=ConnectedComponentsClusterer())
    res = _summary(acc)
    assert res["GQ_uk_oracle_id_model_clusters"] == res["GQ_uk_oracle_id_connected_components"]


def test_oracle_model_clusters_runs_a_partition_clusterer_on_the_gt_mask():
    # split_components with a partition that leaves the GT mask whole: its oracle row is the
    # connected components row (the partition alone would be one segment)
    from goss.modeling.clustering import SplitComponentsClusterer

    gt, segs, pred, pred_segs = _toy()
    acc = GQAccumulator(N)
    clusterer = SplitComponentsClusterer(min_area=1)
    clusters = np.zeros_like(gt)
    acc.add_image(0, gt, segs, pred, pred_segs, clusters=clusters, clusterer=clusterer)
    res = _summary(acc)
    assert res["GQ_uk_oracle_id_model_clusters"] == res["GQ_uk_oracle_id_connected_components"]
    assert res["GQ_uk_oracle_id_model_clusters"] != res["GQ_uk_oracle_id_one_segment"]


def test_without_partition_or_clusterer_the_model_clusters_row_is_absent():
    gt, segs, pred, pred_segs = _toy()
    acc = GQAccumulator(N)
    acc.add_image(0, gt, segs, pred, pred_segs)
    res = _summary(acc)
    assert "GQ_uk_oracle_id_model_clusters" not in res
    assert "GQ_uk_oracle_id_one_segment" in res


def test_size_buckets():
    gt = np.ones((120, 120), np.int64)
    gt[10:50, 10:50] = 2  # 1600 px: medium
    gt[100:105, 100:105] = 3  # 25 px: small
    segs = [KNOWN, {"id": 2, "category_id": N}, {"id": 3, "category_id": N}]
    pred = np.full((120, 120), 5, np.int64)
    pred[gt == 2] = 1001  # medium found
    pred[60:70, 60:70] = 1002  # 100 px false positive on known ground: small
    pred_segs = [{"id": 5, "category_id": 0}] + [{"id": i, "category_id": N} for i in (1001, 1002)]
    acc = GQAccumulator(N)
    acc.add_image(0, gt, segs, pred, pred_segs)
    res = _summary(acc)
    assert res["GQ_uk_medium"] == pytest.approx(100.0) and res["recall_uk_medium"] == 100.0
    assert res["GQ_uk_small"] == 0.0 and res["recall_uk_small"] == 0.0
    assert res["num_uk_small"] == 1 and res["num_uk_medium"] == 1 and res["num_uk_large"] == 0
    assert res["recall_uk_large"] is None
    # the buckets add up to the unknown category's TP / FN
    assert res["TP_uk"] == 1 and res["FN_uk"] == 1 and res["FP_uk"] == 1


def _two_regions():
    gt = np.ones((12, 24), np.int64)
    gt[:, 12:] = 2
    segs = [KNOWN, {"id": 2, "category_id": N}]
    pred = np.where(gt == 2, 1001, 5)
    pred_segs = [{"id": 5, "category_id": 0}, {"id": 1001, "category_id": N}]
    return gt, segs, pred, pred_segs


@pytest.mark.parametrize("turn,expected", [("same", 0.0), ("quarter", 90.0), ("opposite", 180.0)])
def test_field_angle_error(turn, expected):
    from goss.data.bpd_targets import compute_bpd_targets

    gt, segs, pred, pred_segs = _two_regions()
    g, _ = compute_bpd_targets(gt.astype(np.int64), ignore_label=0)
    field = {"same": g, "quarter": np.stack([-g[1], g[0]]), "opposite": -g}[turn]
    acc = GQAccumulator(N)
    acc.add_image(0, gt, segs, pred, pred_segs, field=field)
    res = _summary(acc)
    assert res["field_angle_error"] == pytest.approx(expected, abs=1e-6)
    assert res["field_angle_error_uk"] == pytest.approx(expected, abs=1e-6)
    assert "GQ_clu_gt_field" not in res  # needs a clusterer with a partition


class _SplitAtColumn:
    """A partition clusterer that records the field it gets and splits the image at a column."""

    def __init__(self, column):
        self.column, self.fields = column, []

    def partition(self, field):
        self.fields.append(field.clone())
        out = torch.ones(field.shape[1:], dtype=torch.int32)
        out[:, self.column :] = 2
        return out

    def __call__(self, mask, field=None, partition=None):
        return torch.where(mask, partition.long(), 0)


@pytest.mark.parametrize("column,expected", [(12, 100.0), (24, 0.0)])
def test_gq_clu_of_the_clusterer_on_the_gt_field(column, expected):
    from goss.data.bpd_targets import compute_bpd_targets

    gt, segs, pred, pred_segs = _two_regions()
    clusterer = _SplitAtColumn(column)
    acc = GQAccumulator(N)
    field = np.zeros((2,) + gt.shape, np.float32)
    acc.add_image(0, gt, segs, pred, pred_segs, field=field, clusterer=clusterer)
    assert _summary(acc)["GQ_clu_gt_field"] == pytest.approx(expected)
    # the clusterer got the exact GT field of the GT components, not the predicted field
    (got,) = clusterer.fields
    assert np.array_equal(got.numpy(), compute_bpd_targets(gt, ignore_label=0)[0])


def test_no_gq_clu_on_the_gt_field_for_a_clusterer_that_reads_no_field():
    gt, segs, pred, pred_segs = _two_regions()
    clusterer = _SplitAtColumn(12)
    clusterer.source = "image"  # as felzenszwalb: its partition of a field would be meaningless
    acc = GQAccumulator(N)
    field = np.zeros((2,) + gt.shape, np.float32)
    acc.add_image(0, gt, segs, pred, pred_segs, field=field, clusterer=clusterer)
    summary = _summary(acc)
    assert "GQ_clu_gt_field" not in summary and clusterer.fields == []
    assert "field_angle_error" in summary  # the BPD field itself is still measured


def test_diagnostics_add_up_over_accumulators():
    gt, segs, pred, pred_segs = _toy()
    one, a, b = GQAccumulator(N), GQAccumulator(N), GQAccumulator(N)
    for acc in (one, one, a):
        acc.add_image(0, gt, segs, pred, pred_segs, clusters=gt)
    b.add_image(0, gt, segs, pred, pred_segs, clusters=gt)
    a += b
    ra, r1 = _summary(a), _summary(one)
    for key in (
        "TP_uk_oracle_id_connected_components",
        "GQ_uk_small",
        "GQ_uk_oracle_id_model_clusters",
    ):
        assert ra[key] == r1[key]


def test_diagnostics_can_be_switched_off():
    gt, segs, pred, pred_segs = _toy()
    acc = GQAccumulator(N, diagnostics=False)
    acc.add_image(0, gt, segs, pred, pred_segs)
    assert "GQ_uk_oracle_id_one_segment" not in _summary(acc)


def test_super_bpd_clusterer_partition_is_used_for_the_model_row():
    # a partition clusterer and the model's `clusters` output: the row cuts the partition
    gt, segs, pred, pred_segs = _toy()
    acc = GQAccumulator(N)
    acc.add_image(
        0, gt, segs, pred, pred_segs, clusters=np.zeros_like(gt), clusterer=SuperBPDClusterer()
    )
    res = _summary(acc)
    assert res["GQ_uk_oracle_id_model_clusters"] == res["GQ_uk_oracle_id_one_segment"]
