"""The goals table of the experiment's results file (goss/engine/experiment_report.py)."""

import json

import pytest

from goss.engine.experiment_report import carried_rows, goal_rows, write_report


def _row(model, row, **metrics):
    return {"model": model, "row": row, "metrics": metrics}


ROWS = [
    _row("N-model", "msp/none", GQ=28.0, GQ_kn=56.0, GQ_uk=0.0, AUROC=80.0),
    _row(
        "N+1-OE",
        "n_plus_one/split_components",
        GQ=36.0,
        GQ_kn=55.0,
        GQ_uk=17.0,
        AUROC=92.5,
        GQ_clu=3.0,
        GQ_uk_oracle_id_model_clusters=79.5,
        GQ_uk_oracle_id_connected_components=80.6,
    ),
    _row(
        "N+1-OE",
        "n_plus_one/super_bpd",
        GQ=30.0,
        GQ_kn=57.0,
        GQ_uk=3.0,
        AUROC=92.5,
        GQ_clu=4.0,
        GQ_uk_oracle_id_model_clusters=8.3,
        GQ_uk_oracle_id_connected_components=80.6,
    ),
]


def test_goals_take_the_best_row_and_say_how_far():
    goals = {g["goal"].split(" ")[0]: g for g in goal_rows(ROWS)}
    assert goals["AUROC"]["status"] == "reached" and goals["AUROC"]["value"] == 92.5
    assert goals["GQ_uk"]["status"] == "short by 3.0"
    assert goals["GQ_uk"]["row"] == "N+1-OE: n_plus_one/split_components"
    assert goals["GQ"]["status"] == "reached"
    assert goals["GQ_clu"]["status"] == "short by 16.0" and goals["GQ_clu"]["value"] == 4.0
    oracle = goals["oracle"]
    assert oracle["value"] == pytest.approx(-1.1) and oracle["status"] == "reached"
    known = goals["GQ_kn"]  # the best-GQ row (55.0) against the N-model's best (56.0)
    assert known["value"] == pytest.approx(-1.0) and known["status"] == "short by 1.0"


def test_oracle_goal_skips_rows_that_cluster_by_components():
    cc = _row(
        "N-model",
        "msp/connected_components",
        GQ=28.0,
        GQ_kn=56.0,
        GQ_uk_oracle_id_model_clusters=80.6,
        GQ_uk_oracle_id_connected_components=80.6,
    )
    goals = {g["goal"].split(" ")[0]: g for g in goal_rows(ROWS + [cc])}
    assert goals["oracle"]["row"] == "N+1-OE: n_plus_one/split_components"


def test_missing_metrics_are_not_measured():
    goals = goal_rows([_row("N-model", "msp/none", GQ=28.0, GQ_kn=56.0)])
    by = {g["goal"].split(" ")[0]: g["status"] for g in goals}
    assert by["AUROC"] == by["GQ_clu"] == by["oracle"] == "not measured"


def _evaluated_rows(tmp_path):
    """ROWS as the experiment hands them to write_report: each with its results file."""
    rows = []
    for i, r in enumerate(ROWS):
        path = tmp_path / f"{i}.json"
        metrics = {k: v for k, v in r["metrics"].items() if "oracle" not in k}
        path.write_text(json.dumps(dict(metrics, num_images=3)))
        own = {k: v for k, v in r.items() if k != "metrics"}
        rows.append(dict(own, split="val", dataset="x_val", results=str(path), settings={}))
    return rows


def test_report_has_the_goal_table_only_when_asked(tmp_path):
    rows = _evaluated_rows(tmp_path)
    write_report(str(tmp_path / "a"), [dict(r) for r in rows], "cmd", [], "x_val", goals=True)
    write_report(str(tmp_path / "b"), [dict(r) for r in rows], "cmd", [], "x_val")
    a, b = (tmp_path / "a.md").read_text(), (tmp_path / "b.md").read_text()
    assert "| GQ_uk >= 20" in a and "short by 3.0" in a
    assert "GQ_uk >= 20" not in b


def test_report_lists_the_overrides_of_each_model(tmp_path):
    rows = _evaluated_rows(tmp_path)
    overrides = {
        "A": {"train": ["INPUT.CROP.SIZE", "(352, 352)"], "test": ["INPUT.MIN_SIZE_TEST", "360"]},
        "B": {"train": [], "test": []},
        "C": {"train": [], "test": [], "calibrate": ["--partition-objective", "GQ_clu"]},
    }
    write_report(
        str(tmp_path / "r"),
        rows,
        "cmd",
        ["SOLVER.MAX_ITER", "10"],
        "x_val",
        model_overrides=overrides,
    )
    text = (tmp_path / "r.md").read_text()
    assert (
        "- A: training `INPUT.CROP.SIZE (352, 352)`; "
        "calibration and evaluation `INPUT.MIN_SIZE_TEST 360`." in text
    )
    assert "- B:" not in text
    assert "- C: calibration (tools/calibrate_goss.py) `--partition-objective GQ_clu`." in text
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["model_overrides"] == {"A": overrides["A"], "C": overrides["C"]}
    write_report(str(tmp_path / "s"), rows, "cmd", [], "x_val")
    assert "overrides of their own" not in (tmp_path / "s.md").read_text()


def _written(tmp_path, overrides):
    rows = _evaluated_rows(tmp_path)
    write_report(str(tmp_path / "r"), rows, "cmd", ["S", "1"], "x_val", model_overrides=overrides)
    return str(tmp_path / "r")


def test_carried_rows_are_the_recorded_rows_of_the_models_named(tmp_path):
    overrides = {"N+1-OE": {"train": ["A", "1"], "test": []}}
    stem = _written(tmp_path, overrides)
    rows = carried_rows(stem, ["N+1-OE"], ["S", "1"], "x_val", overrides)
    assert [r["row"] for r in rows] == ["n_plus_one/split_components", "n_plus_one/super_bpd"]
    assert rows[0]["metrics"]["GQ_uk"] == 17.0 and "results" not in rows[0]
    # an empty kind equals a missing one
    assert carried_rows(stem, ["N-model"], ["S", "1"], "x_val", {"N-model": {"calibrate": []}})
    assert carried_rows(stem, [], ["S", "1"], "x_val", overrides) == []


def test_carried_rows_refuse_what_changed_naming_the_file(tmp_path):
    overrides = {"N+1-OE": {"train": ["A", "1"]}}
    stem = _written(tmp_path, overrides)
    with pytest.raises(ValueError, match=r"r\.json: the overrides of N\+1-OE changed"):
        carried_rows(stem, ["N+1-OE"], ["S", "1"], "x_val", {"N+1-OE": {"train": ["A", "2"]}})
    with pytest.raises(ValueError, match="written with schedule"):
        carried_rows(stem, ["N-model"], ["S", "2"], "x_val", overrides)
    with pytest.raises(ValueError, match="written with calibration"):
        carried_rows(stem, ["N-model"], ["S", "1"], "y_val", overrides)
    with pytest.raises(ValueError, match="holds no rows of GST"):
        carried_rows(stem, ["GST"], ["S", "1"], "x_val", overrides)
    with pytest.raises(ValueError, match="nope.json does not exist"):
        carried_rows(str(tmp_path / "nope"), ["GST"], ["S", "1"], "x_val", overrides)


def test_the_report_says_which_rows_were_carried_over(tmp_path):
    stem = _written(tmp_path, {})
    carried = carried_rows(stem, ["N-model"], ["S", "1"], "x_val", {})
    new = [r for r in _evaluated_rows(tmp_path) if r["model"] != "N-model"]
    write_report(
        str(tmp_path / "t"), carried + new, "cmd", ["S", "1"], "x_val", carried=["N-model"]
    )
    text = (tmp_path / "t.md").read_text()
    assert "had `--models N+1-OE`; the rows of the other models (N-model)" in text
    payload = json.loads((tmp_path / "t.json").read_text())
    assert payload["carried_over"] == ["N-model"]
    recorded = json.loads((tmp_path / "r.json").read_text())
    assert payload["rows"] == recorded["rows"]
