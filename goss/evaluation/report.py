"""Tables and result files of a GQ evaluation (JSON, per-class and per-image CSV)."""

import csv
import json
import math
import os

import numpy as np
from tabulate import tabulate

from ..data.goss_format import atomic_write_bytes

__all__ = [
    "format_components",
    "format_diagnostics",
    "format_tables",
    "json_safe",
    "write_results",
]

_MAIN = ("GQ", "GQ_kn", "GQ_kn_present", "GQ_uk", "SQ_kn", "RQ_kn", "SQ_uk", "RQ_uk", "mIoU")
_EXTRA = (
    "GQ_clu",
    "SQ_clu",
    "RQ_clu",
    "AUROC",
    "AUPR",
    "FPR95",
    "AUROC_per_image",
    "AUPR_per_image",
    "FPR95_per_image",
)


def format_tables(results, per_class):
    """Returns a printable summary table and a per-class table (percent)."""
    keys = [k for k in _MAIN + _EXTRA if k in results]
    summary = tabulate([[f"{results[k]:.2f}" for k in keys]], headers=keys, tablefmt="pipe")
    if "GQ_CI95" in results:
        ci = ", ".join(
            f"{k} [{results[k + '_CI95'][0]:.2f}, {results[k + '_CI95'][1]:.2f}]"
            for k in ("GQ", "GQ_kn", "GQ_uk", "GQ_clu")
            if k + "_CI95" in results
        )
        summary += f"\nbootstrap 95% CI over {results['num_images']} images: {ci}"
    rows = [
        [
            c,
            v["name"],
            f"{v['GQ']:.2f}",
            f"{v['SQ']:.2f}",
            f"{v['RQ']:.2f}",
            v["TP"],
            v["FP"],
            v["FN"],
            "" if v["IoU"] is None else f"{v['IoU']:.2f}",
        ]
        for c, v in per_class.items()
    ]
    table = tabulate(
        rows, headers=["id", "class", "GQ", "SQ", "RQ", "TP", "FP", "FN", "IoU"], tablefmt="pipe"
    )
    return summary, table


def _fmt(value, digits=2):
    return "" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else value)


_COMPONENT_KEYS = ("sIoU_uk", "PPV_uk", "mF1_uk", "F1_uk_25", "F1_uk_50", "F1_uk_75")


def format_components(results):
    """
    The SegmentMeIfYouCan component metrics of the unknown class
    (:mod:`goss.evaluation.components`): one row for the model's unknown segments and, if
    computed, one for the components of the thresholded unknown score.
    """
    rows = [["the model's unknown segments", *(_fmt(results.get(k)) for k in _COMPONENT_KEYS)]]
    if "mF1_uk_thresholded" in results or "sIoU_uk_thresholded" in results:
        rows.append(
            [
                "components of unknown_score > threshold",
                *(_fmt(results.get(k + "_thresholded")) for k in _COMPONENT_KEYS),
            ]
        )
    title = f"unknown components (SMIYC; {results.get('num_uk_components', 0)} GT components)"
    return tabulate(rows, headers=[title, *_COMPONENT_KEYS], tablefmt="pipe")


def format_diagnostics(results):
    """
    The diagnostic table (unknown GQ by identification x clustering; keys of
    :mod:`goss.evaluation.diagnostics`), then size buckets and the clustering branch's field.
    """
    from .diagnostics import DIAGNOSTIC_ROWS, SIZE_BUCKETS

    rows = [
        [
            "model_id_model_clusters (the model)",
            *(_fmt(results.get(k)) for k in ("GQ_uk", "SQ_uk", "RQ_uk", "TP_uk", "FP_uk", "FN_uk")),
        ]
    ]
    for name in DIAGNOSTIC_ROWS:
        if f"GQ_uk_{name}" in results:
            rows.append(
                [
                    name,
                    *(
                        _fmt(results[f"{k}_uk_{name}"])
                        for k in ("GQ", "SQ", "RQ", "TP", "FP", "FN")
                    ),
                ]
            )
    text = tabulate(
        rows,
        headers=[
            "unknown: identification x clustering",
            "GQ_uk",
            "SQ_uk",
            "RQ_uk",
            "TP",
            "FP",
            "FN",
        ],
        tablefmt="pipe",
    )
    sizes = [
        [
            b,
            _fmt(results.get(f"GQ_uk_{b}")),
            _fmt(results.get(f"recall_uk_{b}")),
            results.get(f"num_uk_{b}", ""),
        ]
        for b, _, _ in SIZE_BUCKETS
        if f"GQ_uk_{b}" in results
    ]
    if sizes:
        text += "\n" + tabulate(
            sizes, headers=["GT unknown size", "GQ_uk", "recall_uk", "GT segments"], tablefmt="pipe"
        )
    field = [
        f"{label} {_fmt(results[k])}"
        for k, label in (
            ("field_angle_error", "BPD field angle error (deg, labelled pixels)"),
            ("field_angle_error_uk", "on GT-unknown pixels"),
            ("GQ_clu", "GQ_clu"),
            ("GQ_clu_gt_field", "GQ_clu of Super-BPD on the GT field"),
        )
        if results.get(k) is not None
    ]
    if field:
        text += "\n" + "; ".join(field)
    return text


def write_results(output_dir, results, per_class, per_image_rows, json_name="gq_results.json"):
    """Write ``gq_results.json`` (results + per_class), ``gq_per_class.csv`` and
    ``gq_per_image.csv``."""
    os.makedirs(output_dir, exist_ok=True)
    payload = dict(results)
    payload["per_class"] = {str(k): v for k, v in per_class.items()}
    _atomic_json(os.path.join(output_dir, json_name), payload)
    with open(os.path.join(output_dir, "gq_per_class.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["category_id", "name", "GQ", "SQ", "RQ", "TP", "FP", "FN", "IoU"])
        for c, v in per_class.items():
            w.writerow(
                [
                    c,
                    v["name"],
                    v["GQ"],
                    v["SQ"],
                    v["RQ"],
                    v["TP"],
                    v["FP"],
                    v["FN"],
                    "" if v["IoU"] is None else v["IoU"],
                ]
            )
    if per_image_rows:
        with open(os.path.join(output_dir, "gq_per_image.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(per_image_rows[0].keys()))
            w.writeheader()
            w.writerows(per_image_rows)


def json_safe(obj):
    """
    ``obj`` (nested dicts, lists, tuples) with every NaN or infinite float replaced by None, so
    that it is written as ``null``: strict JSON parsers reject ``NaN`` and ``Infinity``.
    """
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _atomic_json(path, payload):
    """Write ``payload`` (:func:`json_safe`) to ``path`` via a temp file, removed on failure."""
    text = json.dumps(json_safe(payload), indent=2, allow_nan=False)
    atomic_write_bytes(path, text.encode())
