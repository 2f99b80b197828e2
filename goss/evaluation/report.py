"""Tables and result files of a GQ evaluation (JSON, per-class and per-image CSV)."""

import contextlib
import csv
import json
import math
import os

import numpy as np
from tabulate import tabulate

__all__ = ["format_tables", "json_safe", "write_results"]

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
            for k in ("GQ", "GQ_kn", "GQ_uk")
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


def write_results(output_dir, results, per_class, per_image_rows, json_name="gq_results.json"):
    """Writes ``gq_results.json`` (results + per_class), ``gq_per_class.csv``, ``gq_per_image.csv``."""
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
    tmp = path + ".tmp"
    f = open(tmp, "w")  # if this fails, nothing was created
    try:
        with f:
            json.dump(json_safe(payload), f, indent=2, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
