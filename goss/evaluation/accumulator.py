"""
Dataset-level accumulation of every GOSS metric, shared by :class:`GQEvaluator` and
``tools/evaluate_goss.py``: per-category GQ statistics, GQ_clu statistics, pixel-score
histograms and per-image records. Accumulators add up (``+=``) across processes.
"""

import numpy as np

from .bootstrap import bootstrap_clu, bootstrap_gq
from .clustering import clustering_stats, gt_components
from .components import SMIYC_MIN_GT_SIZE, ComponentAccumulator
from .diagnostics import DiagnosticAccumulator, category_map
from .metrics import category_quality, class_agnostic_quality, gq_summary, miou
from .ood import ScoreHistogram, per_image_metrics
from .stats import GQStats, image_stats

__all__ = ["GQAccumulator"]

_OOD_KEYS = ("AUROC", "AUPR", "FPR95")


class GQAccumulator:
    """
    Args:
        num_known (int): N; categories are ``0..N-1`` known and ``N`` unknown.
        class_names (list[str] or None): N + 1 names (for the per-class table).
        diagnostics (bool): also accumulate the diagnostic statistics
            (:class:`goss.evaluation.diagnostics.DiagnosticAccumulator`).
        smiyc_min_gt_size, smiyc_min_pred_size, smiyc_score_threshold: the SegmentMeIfYouCan
            component metrics of the unknown class
            (:class:`goss.evaluation.components.ComponentAccumulator`): GT components below
            the first become void, predicted ones below the second are dropped, and with a
            score threshold the connected components of ``unknown_score > threshold`` are
            scored too.
    """

    def __init__(
        self,
        num_known,
        class_names=None,
        diagnostics=True,
        smiyc_min_gt_size=SMIYC_MIN_GT_SIZE,
        smiyc_min_pred_size=0,
        smiyc_score_threshold=None,
    ):
        self.num_known = int(num_known)
        if class_names is None:
            class_names = [str(i) for i in range(num_known)] + ["unknown"]
        if len(class_names) != num_known + 1:
            raise ValueError(f"{len(class_names)} class names for N + 1 = {num_known + 1}")
        self.class_names = list(class_names)
        self.stats = GQStats(num_known + 1)
        self.clu_stats = GQStats(1)
        self.num_clustered = 0
        self.scores = ScoreHistogram()
        self.num_scored = 0
        self.images = []  # per-image records: dict with image_id, stats array, ood metrics
        self.diagnostics = DiagnosticAccumulator(num_known) if diagnostics else None
        self.components = ComponentAccumulator(
            num_known, smiyc_min_gt_size, smiyc_min_pred_size, smiyc_score_threshold
        )

    def add_image(
        self,
        image_id,
        gt_ids,
        gt_segments,
        pred_ids,
        pred_segments,
        pred_void=0,
        unknown_score=None,
        clusters=None,
        where=None,
        field=None,
        clusterer=None,
    ):
        """
        Args:
            image_id: key of the image (in records and errors).
            gt_ids (ndarray): int ``[H, W]`` GT segment ids, 0 = void.
            gt_segments (list[dict]): GT ``segments_info`` (train-id categories).
            pred_ids (ndarray): int ``[H, W]`` predicted ids, ``pred_void`` = void.
            pred_segments (list[dict]): predicted ``segments_info``.
            unknown_score (ndarray or None): float ``[H, W]``, higher = more unknown.
            clusters (ndarray or None): int ``[H, W]`` whole-image partition (GQ_clu).
            field (ndarray or None): float ``[2, H, W]`` predicted BPD field (diagnostics).
            clusterer (callable or None): the model's unknown clusterer (diagnostics).
        """
        where = where or f"image {image_id!r}"
        s, matches = image_stats(
            gt_ids,
            gt_segments,
            pred_ids,
            pred_segments,
            self.num_known + 1,
            gt_void=0,
            pred_void=pred_void,
            where=where,
            return_matches=True,
        )
        record = {"image_id": image_id, "stats": s.as_array()}
        if unknown_score is not None:
            score = np.asarray(unknown_score, dtype=np.float32)
            if score.shape != np.shape(gt_ids):
                raise ValueError(
                    f"{where}: unknown score map {score.shape} and GT "
                    f"{np.shape(gt_ids)} differ in size"
                )
            cat = category_map(gt_ids, gt_segments)
            valid = cat >= 0
            positive = cat == self.num_known
            self.scores += ScoreHistogram.from_pixels(score, positive, valid)
            self.num_scored += 1
            record["ood"] = per_image_metrics(score, positive, valid)
        # the GT components, shared by GQ_clu and the field diagnostics
        needs_components = clusters is not None or (
            self.diagnostics is not None and field is not None
        )
        components = gt_components(gt_ids, gt_segments) if needs_components else None
        if clusters is not None:
            c = clustering_stats(gt_ids, gt_segments, clusters, where=where, components=components)
            self.clu_stats += c
            self.num_clustered += 1
            record["clu_stats"] = c.as_array()
        self.components.add_image(gt_ids, gt_segments, pred_ids, pred_segments, unknown_score)
        if self.diagnostics is not None:
            self.diagnostics.add_image(
                gt_ids,
                gt_segments,
                pred_ids,
                pred_segments,
                matches,
                clusters,
                field,
                clusterer,
                where,
                components,
                unknown_score,
            )
        self.stats += s
        self.images.append(record)
        return s

    def __iadd__(self, other):
        if other.num_known != self.num_known:
            raise ValueError("cannot merge accumulators with different numbers of classes")
        self.stats += other.stats
        self.clu_stats += other.clu_stats
        self.num_clustered += other.num_clustered
        self.scores += other.scores
        self.num_scored += other.num_scored
        self.images.extend(other.images)
        self.components += other.components
        if self.diagnostics is not None and other.diagnostics is not None:
            self.diagnostics += other.diagnostics
        return self

    def summarize(self, lam=0.5, bootstrap_samples=1000, seed=0):
        """
        Returns:
            (results, per_class): ``results`` maps metric names to percent values (plus
            ``num_images`` and ``*_CI95`` [low, high] pairs); ``per_class`` maps the category
            id to ``{name, GQ, SQ, RQ, TP, FP, FN, IoU}`` (percent for GQ/SQ/RQ).
        """
        res = {k: 100.0 * v for k, v in gq_summary(self.stats, self.num_known, lam).items()}
        m, ious = miou(self.stats.confusion)
        res["mIoU"] = 100.0 * m
        if self.num_clustered:
            res.update({k: 100.0 * v for k, v in class_agnostic_quality(self.clu_stats).items()})
        if self.num_scored:
            res.update({k: 100.0 * v for k, v in self.scores.metrics().items()})
            per = [r["ood"] for r in self.images if r.get("ood") is not None]
            for k in _OOD_KEYS:
                res[f"{k}_per_image"] = (
                    100.0 * float(np.mean([p[k] for p in per])) if per else float("nan")
                )
        if bootstrap_samples and self.images:
            arr = np.stack([r["stats"] for r in self.images])
            ci = bootstrap_gq(arr, self.num_known, bootstrap_samples, seed, lam=lam)
            clu = [r["clu_stats"] for r in self.images if "clu_stats" in r]
            if clu:
                ci.update(bootstrap_clu(np.stack(clu), bootstrap_samples, seed))
            for k, (lo, hi) in ci.items():
                res[f"{k}_CI95"] = [100.0 * lo, 100.0 * hi]
        res["num_images"] = len(self.images)
        n = self.num_known
        res.update(
            TP_uk=int(self.stats.tp[n]), FP_uk=int(self.stats.fp[n]), FN_uk=int(self.stats.fn[n])
        )
        res.update(self.components.summarize())
        if self.diagnostics is not None:
            res.update(self.diagnostics.summarize())
        q = category_quality(self.stats)
        per_class = {}
        for c, name in enumerate(self.class_names):
            per_class[c] = {
                "name": name,
                "GQ": 100.0 * float(q["PQ"][c]),
                "SQ": 100.0 * float(q["SQ"][c]),
                "RQ": 100.0 * float(q["RQ"][c]),
                "TP": int(self.stats.tp[c]),
                "FP": int(self.stats.fp[c]),
                "FN": int(self.stats.fn[c]),
                "IoU": None if np.isnan(ious[c]) else 100.0 * float(ious[c]),
            }
        return res, per_class

    def per_image_rows(self):
        """Rows (dicts) for the per-image CSV: counts and GQ_kn/GQ_uk of each image alone."""
        rows = []
        n = self.num_known
        for r in self.images:
            a = r["stats"]
            s = GQStats(n + 1)
            s.tp, s.fp, s.fn = (a[:, i].astype(np.int64) for i in range(3))
            s.iou = a[:, 3]
            q = category_quality(s)
            row = {
                "image_id": r["image_id"],
                "TP": int(a[:, 0].sum()),
                "FP": int(a[:, 1].sum()),
                "FN": int(a[:, 2].sum()),
                "GQ_kn_present": (
                    100.0 * float(q["PQ"][:n][q["present"][:n]].mean())
                    if q["present"][:n].any()
                    else ""
                ),
                "GQ_uk": 100.0 * float(q["PQ"][n]) if q["present"][n] else "",
            }
            ood = r.get("ood")
            for k in _OOD_KEYS:
                row[k] = 100.0 * ood[k] if ood else ""
            rows.append(row)
        return rows
