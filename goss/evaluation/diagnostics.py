"""
Diagnostic GOSS statistics, computed in the same pass as GQ: they split the unknown error into
identification and clustering.

- Oracle rows: GQ_uk when the unknown pixels are the GT unknown mask (oracle identification),
  grouped by the model's clusterer, by 8-connected components, or left as one segment; and the
  model's own identification grouped by connected components.
- Size buckets: GQ_uk and unknown recall by GT segment area (small < 32^2, medium, large >= 96^2
  pixels, as COCO); a false positive falls in the bucket of its own area.
- The clustering branch: mean angle error of the predicted BPD field against the GT BPD field
  (labelled pixels, and GT-unknown pixels), and GQ_clu of Super-BPD run on the GT field (what the
  clusterer reaches with a perfect field).
"""

import numpy as np
import torch

from ..layers.connected_components import connected_components
from ..modeling.clustering.build import reads_unknown_score
from .clustering import clustering_stats, gt_components
from .metrics import category_quality
from .stats import GQStats, image_stats

__all__ = [
    "DIAGNOSTIC_ROWS",
    "SIZE_BUCKETS",
    "DiagnosticAccumulator",
    "category_map",
    "size_bucket_stats",
]

# (name, lowest area, highest area exclusive) in pixels
SIZE_BUCKETS = (("small", 0, 32**2), ("medium", 32**2, 96**2), ("large", 96**2, np.inf))
# identification x clustering rows; "model_id" = the model's unknown mask, "oracle_id" = GT's;
# "model_id_no_spill": the model's unknown mask less its pixels on GT known classes (its false
# positive pixels, which can bridge neighbouring objects into one component)
DIAGNOSTIC_ROWS = (
    "model_id_connected_components",
    "model_id_no_spill_connected_components",
    "oracle_id_model_clusters",
    "oracle_id_connected_components",
    "oracle_id_one_segment",
)


def category_map(ids, segments, void=-1):
    """
    Args:
        ids (ndarray): integer ``[H, W]`` segment ids.
        segments (list[dict]): ``segments_info`` (``id``, ``category_id``).
    Returns:
        ndarray int64 ``[H, W]``: the category of each pixel's segment, ``void`` for ids not listed.
    """
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(ids.shape, void, dtype=np.int64)
    if not segments:
        return out
    keys = np.array([s["id"] for s in segments], dtype=np.int64)
    cats = np.array([s["category_id"] for s in segments], dtype=np.int64)
    order = np.argsort(keys)
    keys, cats = keys[order], cats[order]
    pos = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
    hit = keys[pos] == ids
    out[hit] = cats[pos[hit]]
    return out


def size_bucket_stats(matches, category):
    """
    Args:
        matches (dict): the per-segment matching of :func:`goss.evaluation.image_stats`.
        category (int): the category scored (the unknown one, N).
    Returns:
        GQStats with one "category" per entry of :data:`SIZE_BUCKETS`.
    """
    stats = GQStats(len(SIZE_BUCKETS))
    gt = (matches["gt_category"] == category) & ~matches["gt_crowd"]
    fp = matches["pred_fp"] & (matches["pred_category"] == category)
    for b, (_, lo, hi) in enumerate(SIZE_BUCKETS):
        g = gt & (matches["gt_area"] >= lo) & (matches["gt_area"] < hi)
        stats.tp[b] = int((g & matches["gt_matched"]).sum())
        stats.fn[b] = int((g & ~matches["gt_matched"]).sum())
        stats.iou[b] = float(matches["gt_iou"][g].sum())
        stats.fp[b] = int((fp & (matches["pred_area"] >= lo) & (matches["pred_area"] < hi)).sum())
    return stats


def _unknown_row(gt_ids, gt_segments, labels, num_known, where):
    """GQStats(1) of the unknown category for unknown segments ``labels`` (0 = none)."""
    seg = [{"id": int(i), "category_id": num_known} for i in np.unique(labels) if i > 0]
    s = image_stats(gt_ids, gt_segments, labels, seg, num_known + 1, 0, 0, where)
    out = GQStats(1)
    out.tp[0], out.fp[0], out.fn[0], out.iou[0] = (
        s.tp[num_known],
        s.fp[num_known],
        s.fn[num_known],
        s.iou[num_known],
    )
    return out


def _model_clusters_on(mask, clusters, clusterer, unknown_score=None):
    """
    The model's clusterer applied to ``mask`` (int64, 0 = none), or None if unknown. A clusterer
    with a whole-image partition gets the row's partition ``clusters`` (negative ids are void),
    one that reads the unknown score the model's ``unknown_score`` (None without it).
    """
    if reads_unknown_score(clusterer):
        if unknown_score is None:
            return None
        score = torch.from_numpy(np.asarray(unknown_score, dtype=np.float32))
        return clusterer(torch.from_numpy(mask), unknown_score=score).cpu().numpy()
    if clusterer is not None and not hasattr(clusterer, "partition"):
        return clusterer(torch.from_numpy(mask)).cpu().numpy()
    if clusters is None:
        return None
    clusters = np.asarray(clusters, dtype=np.int64)
    valid = mask & (clusters >= 0)
    # a partition's ids may start at 0: shifted so that every valid id is positive
    partition = clusters + 1
    if clusterer is None:
        return np.where(valid, partition, 0)
    return clusterer(torch.from_numpy(valid), partition=torch.from_numpy(partition)).cpu().numpy()


def _angle_error_sums(pred_field, gt_field, pixels):
    """(sum of angle errors in degrees, count) over ``pixels``."""
    p = np.asarray(pred_field, dtype=np.float64)[:, pixels]
    g = gt_field[:, pixels].astype(np.float64)
    cross = p[0] * g[1] - p[1] * g[0]
    dot = p[0] * g[0] + p[1] * g[1]
    err = np.degrees(np.arctan2(np.abs(cross), dot))
    return float(err.sum()), int(err.size)


class DiagnosticAccumulator:
    """
    Additive diagnostic statistics over images (see the module docstring).

    Args:
        num_known (int): N; the unknown category is N.
    """

    def __init__(self, num_known):
        self.num_known = int(num_known)
        self.rows = {name: GQStats(1) for name in DIAGNOSTIC_ROWS}
        self.row_images = dict.fromkeys(DIAGNOSTIC_ROWS, 0)
        self.sizes = GQStats(len(SIZE_BUCKETS))
        self.angle = {"all": [0.0, 0], "unknown": [0.0, 0]}
        self.gt_field_clu = GQStats(1)
        self.num_gt_field = 0

    def add_image(
        self,
        gt_ids,
        gt_segments,
        pred_ids,
        pred_segments,
        matches,
        clusters=None,
        field=None,
        clusterer=None,
        where="image",
        components=None,
        unknown_score=None,
    ):
        """
        Args:
            gt_ids, gt_segments, pred_ids, pred_segments: as :meth:`GQAccumulator.add_image`.
            matches (dict): the matching of the main prediction (``image_stats``).
            clusters (ndarray or None): int ``[H, W]`` whole-image partition of the model.
            field (ndarray or None): float ``[2, H, W]`` predicted BPD field.
            clusterer (callable or None): the model's clusterer (``UNKNOWN_CLUSTERER_REGISTRY``).
            components (ndarray or None): ``gt_components`` of the GT, when already computed.
            unknown_score (ndarray or None): float ``[H, W]``, the model's (for a clusterer that
                reads it).
        """
        n = self.num_known
        self.sizes += size_bucket_stats(matches, n)
        oracle = category_map(gt_ids, [s for s in gt_segments if not s.get("iscrowd", 0)]) == n
        predicted = category_map(pred_ids, pred_segments) == n
        gt_cats = category_map(gt_ids, gt_segments)
        no_spill = predicted & ((gt_cats < 0) | (gt_cats >= n))  # off GT known pixels
        labels = {
            "model_id_connected_components": connected_components(predicted).numpy(),
            "model_id_no_spill_connected_components": connected_components(no_spill).numpy(),
            "oracle_id_model_clusters": _model_clusters_on(
                oracle, clusters, clusterer, unknown_score
            ),
            "oracle_id_connected_components": connected_components(oracle).numpy(),
            "oracle_id_one_segment": oracle.astype(np.int64),
        }
        for name, lab in labels.items():
            if lab is not None:
                self.rows[name] += _unknown_row(gt_ids, gt_segments, lab, n, f"{where} ({name})")
                self.row_images[name] += 1
        if field is not None:
            if components is None:
                components = gt_components(gt_ids, gt_segments)
            field = np.asarray(field)
            self._add_field(gt_ids, gt_segments, field, oracle, clusterer, where, components)

    def _add_field(self, gt_ids, gt_segments, field, oracle, clusterer, where, comps):
        from goss.data.bpd_targets import compute_bpd_targets

        if field.shape != (2,) + np.shape(gt_ids):
            raise ValueError(f"{where}: BPD field {field.shape} does not fit GT {np.shape(gt_ids)}")
        gt_field, _ = compute_bpd_targets(comps, ignore_label=0)
        labelled = comps > 0
        for key, pixels in (("all", labelled), ("unknown", labelled & oracle)):
            total, count = _angle_error_sums(field, gt_field, pixels)
            self.angle[key][0] += total
            self.angle[key][1] += count
        # Super-BPD on the GT field: only for a clusterer that reads the BPD field
        reads_field = getattr(clusterer, "source", "bpd_field") == "bpd_field"
        if clusterer is not None and hasattr(clusterer, "partition") and reads_field:
            partition = clusterer.partition(torch.from_numpy(gt_field)).cpu().numpy()
            self.gt_field_clu += clustering_stats(
                gt_ids, gt_segments, partition, where=where, components=comps
            )
            self.num_gt_field += 1

    def __iadd__(self, other):
        for name in DIAGNOSTIC_ROWS:
            self.rows[name] += other.rows[name]
            self.row_images[name] += other.row_images[name]
        self.sizes += other.sizes
        for key in self.angle:
            self.angle[key][0] += other.angle[key][0]
            self.angle[key][1] += other.angle[key][1]
        self.gt_field_clu += other.gt_field_clu
        self.num_gt_field += other.num_gt_field
        return self

    def summarize(self):
        """
        Returns:
            dict of flat keys (percent, except counts and degrees): ``{GQ,SQ,RQ}_uk_<row>`` and
            ``{TP,FP,FN}_uk_<row>`` per row of :data:`DIAGNOSTIC_ROWS` that could be computed;
            ``GQ_uk_<bucket>``, ``recall_uk_<bucket>``, ``num_uk_<bucket>`` (GT segments) per
            size bucket; ``field_angle_error`` and ``field_angle_error_uk`` (mean degrees) and
            ``GQ_clu_gt_field`` (with SQ, RQ) when a field was given.
        """
        out = {}
        for name in DIAGNOSTIC_ROWS:
            if self.row_images[name]:
                s = self.rows[name]
                q = category_quality(s)
                for key, value in (("GQ", q["PQ"]), ("SQ", q["SQ"]), ("RQ", q["RQ"])):
                    out[f"{key}_uk_{name}"] = 100.0 * float(value[0])
                out[f"TP_uk_{name}"] = int(s.tp[0])
                out[f"FP_uk_{name}"] = int(s.fp[0])
                out[f"FN_uk_{name}"] = int(s.fn[0])
        q = category_quality(self.sizes)
        for b, (bucket, _, _) in enumerate(SIZE_BUCKETS):
            gt = int(self.sizes.tp[b] + self.sizes.fn[b])
            out[f"GQ_uk_{bucket}"] = 100.0 * float(q["PQ"][b])
            out[f"recall_uk_{bucket}"] = 100.0 * self.sizes.tp[b] / gt if gt else None
            out[f"num_uk_{bucket}"] = gt
        if self.angle["all"][1]:
            out["field_angle_error"] = self.angle["all"][0] / self.angle["all"][1]
            unknown = self.angle["unknown"]
            out["field_angle_error_uk"] = unknown[0] / unknown[1] if unknown[1] else None
        if self.num_gt_field:
            q = category_quality(self.gt_field_clu)
            for key, value in (("GQ", q["PQ"]), ("SQ", q["SQ"]), ("RQ", q["RQ"])):
                out[f"{key}_clu_gt_field"] = 100.0 * float(value[0])
        return out
