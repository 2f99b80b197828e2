"""GOSS evaluation: the GQ metric (NumPy core), OSS pixel-score metrics and the evaluator."""

from .accumulator import GQAccumulator
from .bootstrap import bootstrap_gq
from .clustering import clustering_stats, gt_component_partition
from .gq_evaluator import GQEvaluator, panoptic_to_segments
from .io import load_panoptic_json, read_id_png
from .metrics import category_quality, class_agnostic_quality, gq_summary, miou
from .ood import ScoreHistogram, curve_metrics
from .stats import GQStats, image_stats

__all__ = [
    "GQAccumulator",
    "GQEvaluator",
    "GQStats",
    "ScoreHistogram",
    "bootstrap_gq",
    "category_quality",
    "class_agnostic_quality",
    "clustering_stats",
    "curve_metrics",
    "gq_summary",
    "gt_component_partition",
    "image_stats",
    "load_panoptic_json",
    "miou",
    "panoptic_to_segments",
    "read_id_png",
]
