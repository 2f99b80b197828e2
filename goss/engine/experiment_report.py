"""The results file of ``tools/run_experiment.py``: Markdown tables and the JSON beside them."""

import json
import os

from tabulate import tabulate

from ..data.goss_format import atomic_write_bytes
from ..evaluation.diagnostics import DIAGNOSTIC_ROWS, SIZE_BUCKETS
from ..evaluation.report import json_safe

__all__ = ["GOALS", "carried_rows", "goal_rows", "write_report"]

# The real-image goals: metric -> the value a row should reach (percent).
GOALS = {"AUROC": 90.0, "GQ_uk": 20.0, "GQ": 35.0, "GQ_clu": 20.0}
# The oracle goal: the model's clusterer on the GT unknown mask within this many points of its
# connected components (or better).
ORACLE_GAP = 2.0

# metrics copied into the JSON, per row
_KEYS = (
    "GQ", "GQ_kn", "GQ_uk", "SQ_uk", "RQ_uk", "TP_uk", "FP_uk", "FN_uk", "mIoU", "GQ_clu",
    "AUROC", "FPR95", "GQ_CI95", "GQ_uk_CI95", "GQ_clu_CI95", "num_images", "field_angle_error",
    "field_angle_error_uk", "GQ_clu_gt_field",
    *(f"{m}_uk_{r}" for r in DIAGNOSTIC_ROWS for m in ("GQ", "SQ", "RQ", "TP", "FP", "FN")),
    *(f"{m}_uk_{b}" for b, _, _ in SIZE_BUCKETS for m in ("GQ", "recall", "num")),
)  # fmt: skip


def _f(value, digits=1):
    return "" if value is None else f"{value:.{digits}f}"


def _ci(res, key):
    ci = res.get(f"{key}_CI95")
    text = _f(res.get(key))
    return f"{text} [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else text


def _settings(settings):
    skip = ("IDENTIFIER", "UNKNOWN_CLUSTERING")
    short = {k.split(".")[-1]: v for k, v in settings.items() if k.split(".")[-1] not in skip}
    return ", ".join(f"{k}={v}" for k, v in short.items())


def _main_table(rows):
    body = []
    for r in rows:
        m = r["metrics"]
        body.append(
            [
                r["model"],
                r["row"],
                _ci(m, "GQ"),
                _f(m.get("GQ_kn")),
                _ci(m, "GQ_uk"),
                _f(m.get("SQ_uk")),
                _f(m.get("RQ_uk")),
                f"{m.get('TP_uk')} / {m.get('FP_uk')} / {m.get('FN_uk')}",
                _ci(m, "GQ_clu"),
                _f(m.get("AUROC")),
                _settings(r["settings"]),
            ]
        )
    headers = ["model", "identification / clustering", "GQ [95% CI]", "GQ_kn", "GQ_uk [95% CI]",
               "SQ_uk", "RQ_uk", "unknown TP / FP / FN", "GQ_clu [95% CI]", "AUROC",
               "calibrated settings"]  # fmt: skip
    return tabulate(body, headers=headers, tablefmt="pipe")


def _uk_cells(m, name):
    return [
        _f(m[f"GQ_uk_{name}"]),
        _f(m[f"SQ_uk_{name}"]),
        _f(m[f"RQ_uk_{name}"]),
        f"{m[f'TP_uk_{name}']} / {m[f'FP_uk_{name}']} / {m[f'FN_uk_{name}']}",
    ]


def _diagnostic_table(rows):
    """
    Per model: the GT unknown mask as connected components and as one segment (the same for
    every row), then per row the GT mask cut by the row's clusters and the row's own mask as
    connected components.
    """
    body = []
    for model in dict.fromkeys(r["model"] for r in rows):
        sub = [r for r in rows if r["model"] == model]
        first = sub[0]["metrics"]
        for name, what in (
            ("oracle_id_connected_components", "GT unknown mask, connected components"),
            ("oracle_id_one_segment", "GT unknown mask, one segment"),
        ):
            if f"GQ_uk_{name}" in first:
                body.append([model, "(any)", what, *_uk_cells(first, name)])
        for r in sub:
            m = r["metrics"]
            for name, what in (
                ("oracle_id_model_clusters", "GT unknown mask, the row's clusters"),
                ("model_id_connected_components", "the row's unknown mask, connected components"),
                (
                    "model_id_no_spill_connected_components",
                    "the row's unknown mask off GT known pixels, connected components",
                ),
            ):
                if f"GQ_uk_{name}" in m:
                    body.append([model, r["row"], what, *_uk_cells(m, name)])
    headers = [
        "model",
        "row",
        "unknown pixels, grouping",
        "GQ_uk",
        "SQ_uk",
        "RQ_uk",
        "TP / FP / FN",
    ]
    return tabulate(body, headers=headers, tablefmt="pipe")


def _size_field_table(rows):
    body = []
    for r in rows:
        m = r["metrics"]
        sizes = [
            f"{_f(m.get(f'GQ_uk_{b}'))} / {_f(m.get(f'recall_uk_{b}'))} ({m.get(f'num_uk_{b}')})"
            for b, _, _ in SIZE_BUCKETS
        ]
        field = [_f(m.get(k)) for k in ("field_angle_error", "field_angle_error_uk")]
        body.append([r["model"], r["row"], *sizes, *field, _f(m.get("GQ_clu_gt_field"))])
    headers = ["model", "row", *(f"{b}: GQ_uk / recall (GT segs)" for b, _, _ in SIZE_BUCKETS),
               "field angle error (deg)", "on unknown px",
               "GQ_clu, Super-BPD on GT field"]  # fmt: skip
    return tabulate(body, headers=headers, tablefmt="pipe")


def _status(value, target):
    if value is None:
        return "not measured"
    return "reached" if value >= target else f"short by {target - value:.1f}"


def goal_rows(rows, baseline="N-model"):
    """
    The goals against the rows of one split: per goal the best row, its value and how far it is.

    Args:
        rows (list[dict]): rows with ``model``, ``row`` and ``metrics``.
        baseline (str): the model whose known-class quality the others must keep.
    Returns:
        list[dict]: ``goal``, ``target``, ``value``, ``row`` (model: row), ``status``.
    """
    out = []
    for key, target in GOALS.items():
        have = [r for r in rows if r["metrics"].get(key) is not None]
        best = max(have, key=lambda r: r["metrics"][key], default=None)
        value = best["metrics"][key] if best else None
        out.append(
            {
                "goal": f"{key} >= {target:g}",
                "target": target,
                "value": value,
                "row": f"{best['model']}: {best['row']}" if best else "",
                "status": _status(value, target),
            }
        )
    model_key, cc_key = "GQ_uk_oracle_id_model_clusters", "GQ_uk_oracle_id_connected_components"
    # the clustering branch's rows: not those that cluster by components or not at all
    have = [
        r
        for r in rows
        if model_key in r["metrics"]
        and cc_key in r["metrics"]
        and not r["row"].endswith(("/connected_components", "/none"))
    ]
    best = max(have, key=lambda r: r["metrics"][model_key] - r["metrics"][cc_key], default=None)
    gap = best["metrics"][model_key] - best["metrics"][cc_key] if best else None
    out.append(
        {
            "goal": f"oracle identification: the model's clusters within {ORACLE_GAP:g} of "
            "connected components (model - components)",
            "target": -ORACLE_GAP,
            "value": gap,
            "row": f"{best['model']}: {best['row']}" if best else "",
            "status": _status(gap, -ORACLE_GAP),
        }
    )
    base = [
        r["metrics"]["GQ_kn"] for r in rows if r["model"] == baseline and "GQ_kn" in r["metrics"]
    ]
    top = max(
        (r for r in rows if "GQ" in r["metrics"]), key=lambda r: r["metrics"]["GQ"], default=None
    )
    if base and top is not None:
        value = top["metrics"]["GQ_kn"] - max(base)
        out.append(
            {
                "goal": f"GQ_kn of the best-GQ row not below the {baseline}'s best "
                f"({max(base):.1f})",
                "target": 0.0,
                "value": value,
                "row": f"{top['model']}: {top['row']}",
                "status": _status(value, 0.0),
            }
        )
    return out


def _goal_table(goals):
    body = [[g["goal"], _f(g["value"]), g["row"], g["status"]] for g in goals]
    return tabulate(body, headers=["goal", "best value", "row", "status"], tablefmt="pipe")


def _own_overrides(overrides):
    """A model's overrides without the empty kinds (how they compare across results files)."""
    return {kind: list(v) for kind, v in (overrides or {}).items() if v}


def carried_rows(stem, models, schedule, calibration, model_overrides):
    """
    The rows of ``models`` in the results file ``<stem>.json`` of an earlier run, for a run that
    evaluates the other models only (``run_experiment.py --models``).

    Args:
        stem (str): the results file's path without extension.
        models (list[str]): the models whose rows are carried over.
        schedule, calibration, model_overrides: as :func:`write_report` is given them now; the
            file must have been written with the same schedule, calibration split and, for each
            model in ``models``, the same overrides.
    Returns:
        list[dict]: the rows (``model``, ``split``, ``dataset``, ``row``, ``settings``,
        ``metrics``) in the file's order.
    Raises:
        ValueError: naming the file and what differs (or is missing).
    """
    path = f"{stem}.json"
    if not models:
        return []
    if not os.path.isfile(path):
        raise ValueError(f"{path} does not exist: nothing to carry the rows of {models} from")
    with open(path) as f:
        recorded = json.load(f)
    for key, now in (("schedule", list(schedule)), ("calibration", calibration)):
        if recorded.get(key) != now:
            raise ValueError(
                f"{path} was written with {key} {recorded.get(key)!r}, this run has {now!r}: "
                "run every model again (without --models)"
            )
    old = recorded.get("model_overrides", {})
    rows = []
    for model in models:
        if _own_overrides(old.get(model)) != _own_overrides(model_overrides.get(model)):
            raise ValueError(
                f"{path}: the overrides of {model} changed since it was written: "
                f"run it again (--models {model})"
            )
        own = [r for r in recorded["rows"] if r["model"] == model]
        if not own:
            raise ValueError(f"{path} holds no rows of {model}: run it (--models {model})")
        rows += own
    return rows


def write_report(
    stem,
    rows,
    command,
    schedule,
    calibration,
    goals=False,
    model_overrides=None,
    carried=(),
):
    """
    Write ``<stem>.md`` and ``<stem>.json`` from the experiment's evaluated rows.

    Args:
        stem (str): path without extension.
        rows (list[dict]): ``model``, ``split``, ``dataset``, ``row``, ``results`` (a
            ``gq_results.json``), ``settings`` (the calibrated settings, {} as configured).
        command (str): the command that produced the rows.
        schedule (list[str]): the training schedule's config overrides.
        calibration (str): the split the settings were calibrated on.
        goals (bool): add the :data:`GOALS` table per split (the real-image benchmark).
        model_overrides (dict or None): model -> ``{"train": [...], "test": [...]}``, the config
            overrides a model adds after the schedule's (listed under the header).
        carried (sequence of str): the models whose rows (with ``metrics`` instead of
            ``results``) an earlier run of ``command`` produced (:func:`carried_rows`).
    """
    model_overrides = {m: o for m, o in (model_overrides or {}).items() if any(o.values())}
    for r in rows:
        if "metrics" in r:  # carried over from an earlier run
            continue
        with open(r["results"]) as f:
            res = json.load(f)
        r["metrics"] = {k: res[k] for k in _KEYS if k in res}
    splits = list(dict.fromkeys(r["split"] for r in rows))
    lines = [
        "# CamVid-GOSS results" if "camvid" in calibration else f"# Results ({calibration})",
        "",
        f"Produced by `{command}` (training overrides: `{' '.join(schedule) or 'none'}`).",
        f"Post-processing settings were calibrated by GQ on `{calibration}` "
        "(`tools/calibrate_goss.py`, with a model's own calibration arguments where listed below); "
        "rows on that split are therefore optimistic. "
        "GQ values are percent; CIs are bootstrap 95% intervals over images.",
        "",
    ]
    ran = [m for m in dict.fromkeys(r["model"] for r in rows) if m not in carried]
    if carried:
        lines += [
            f"The last run of that command had `--models {' '.join(ran)}`; the rows of the "
            f"other models ({', '.join(carried)}) are those of earlier runs of it, carried over "
            "(`--models MODEL` reruns a model's stages).",
            "",
        ]
    if model_overrides:
        lines += ["Models with overrides of their own, after the schedule's:", ""]
        for model, o in model_overrides.items():
            kinds = (
                ("training", o.get("train")),
                ("calibration and evaluation", o.get("test")),
                ("calibration (tools/calibrate_goss.py)", o.get("calibrate")),
            )
            parts = [f"{k} `{' '.join(v)}`" for k, v in kinds if v]
            lines.append(f"- {model}: " + "; ".join(parts) + ".")
        lines.append("")
    for split in splits:
        sub = [r for r in rows if r["split"] == split]
        lines += [
            f"## {split} (`{sub[0]['dataset']}`, {sub[0]['metrics'].get('num_images')} images)",
            "",
        ]
        if goals:
            lines += [
                f"Goals, best row of this table for each (settings calibrated on `{calibration}`):",
                "",
                _goal_table(goal_rows(sub)),
                "",
            ]
        lines += [_main_table(sub), ""]
        lines += [
            "Diagnostics: unknown quality with the GT unknown mask (oracle identification) or the "
            "model's mask, grouped by the model's clusters, connected components, or one segment:",
            "",
            _diagnostic_table([r for r in sub if not r["row"].endswith("--eval-only)")]),
            "",
            "By GT unknown segment size (small < 32^2, large >= 96^2 px), and the clustering "
            "branch:",
            "",
            _size_field_table([r for r in sub if not r["row"].endswith("--eval-only)")]),
            "",
        ]
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    payload = {
        "command": command,
        "schedule": schedule,
        "model_overrides": model_overrides,
        "calibration": calibration,
        "carried_over": list(carried),
        "rows": [
            {k: r[k] for k in ("model", "split", "dataset", "row", "settings", "metrics")}
            for r in rows
        ],
    }
    for path, text in (
        (f"{stem}.md", "\n".join(lines)),
        (f"{stem}.json", json.dumps(json_safe(payload), indent=1)),
    ):
        atomic_write_bytes(path, (text + "\n").encode())
