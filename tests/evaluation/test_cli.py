"""tools/evaluate_goss.py end to end on a tmp folder of COCO panoptic PNG + JSON."""

import importlib.util
import json
import logging
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from goss.utils.panoptic_export import id2rgb

from .synthetic import random_pair

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "evaluate_goss.py")


def _write_side(folder, name, pairs, which):
    os.makedirs(os.path.join(folder, name), exist_ok=True)
    anns = []
    for k, pair in enumerate(pairs):
        ids, segs = (pair[0], pair[1]) if which == "gt" else (pair[2], pair[3])
        fn = f"img{k}.png"
        Image.fromarray(id2rgb(ids)).save(os.path.join(folder, name, fn))
        anns.append({"image_id": 100 + k, "file_name": fn, "segments_info": segs})
    js = os.path.join(folder, f"{name}.json")
    with open(js, "w") as f:
        json.dump({"images": [{"id": 100 + k} for k in range(len(pairs))], "annotations": anns}, f)
    return js


def _load_tool():
    spec = importlib.util.spec_from_file_location("evaluate_goss", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _args(tmp_path, *extra):
    return [
        "--gt-json",
        str(tmp_path / "gt.json"),
        "--gt-dir",
        str(tmp_path / "gt"),
        "--pred-json",
        str(tmp_path / "pred.json"),
        "--pred-dir",
        str(tmp_path / "pred"),
        "--num-known",
        "4",
        *extra,
    ]


def _run_inprocess(tmp_path, caplog, *extra):
    """Runs the tool's main() in this process (fast); returns (exit code, log text)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="evaluate_goss"):
        rc = _load_tool().main(_args(tmp_path, *extra))
    return rc, caplog.text


def _run(tmp_path, *extra):
    """Runs the tool as a subprocess, exactly as external checks call it."""
    args = [sys.executable, TOOL, *_args(tmp_path, *extra)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    pairs = [random_pair(rng, big_ids=True) for _ in range(3)]
    _write_side(tmp_path, "gt", pairs, "gt")
    _write_side(tmp_path, "pred", pairs, "pred")
    return pairs


def test_cli_end_to_end(tmp_path, dataset):
    from goss.evaluation.accumulator import GQAccumulator

    os.makedirs(tmp_path / "scores")
    rng = np.random.default_rng(1)
    for k, p in enumerate(dataset):
        np.save(tmp_path / "scores" / f"img{k}.npy", rng.random(p[0].shape).astype(np.float32))
    out = tmp_path / "res" / "results.json"
    os.makedirs(out.parent)
    r = _run(
        tmp_path,
        "--output",
        str(out),
        "--pred-scores",
        str(tmp_path / "scores"),
        "--bootstrap",
        "50",
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    for k in (
        "GQ",
        "GQ_kn",
        "GQ_kn_present",
        "GQ_uk",
        "SQ_kn",
        "RQ_kn",
        "SQ_uk",
        "RQ_uk",
        "per_class",
        "num_images",
        "mIoU",
        "AUROC",
        "AUPR",
        "FPR95",
        "GQ_CI95",
    ):
        assert k in res
    assert res["num_images"] == 3
    assert set(res["per_class"]) == {"0", "1", "2", "3", "4"}
    assert set(res["per_class"]["4"]) >= {"GQ", "SQ", "RQ", "TP", "FP", "FN"}
    acc = GQAccumulator(4)
    for p in dataset:
        acc.add_image(0, *p)
    expect, _ = acc.summarize(bootstrap_samples=0)
    assert res["GQ"] == pytest.approx(expect["GQ"]) and res["GQ_uk"] == pytest.approx(
        expect["GQ_uk"]
    )
    assert (out.parent / "gq_per_class.csv").exists() and (out.parent / "gq_per_image.csv").exists()
    assert "GQ_kn" in r.stdout


def test_cli_perfect_prediction(tmp_path, dataset, caplog):
    pairs = [(g, gs, g, [dict(s, iscrowd=0) for s in gs]) for g, gs, _, _ in dataset]
    pairs = [(g, s2, p, s2) for g, _, p, s2 in pairs]
    _write_side(tmp_path, "gt", pairs, "gt")
    _write_side(tmp_path, "pred", pairs, "pred")
    out = tmp_path / "r.json"
    assert _run_inprocess(tmp_path, caplog, "--output", str(out), "--bootstrap", "0")[0] == 0
    res = json.loads(out.read_text())
    assert res["GQ_kn_present"] == pytest.approx(100.0) and res["GQ_uk"] == pytest.approx(100.0)
    assert res["mIoU"] == pytest.approx(100.0)


def _corrupt_json(tmp_path, name, fn):
    js = tmp_path / f"{name}.json"
    data = json.loads(js.read_text())
    fn(data)
    js.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "case,pattern",
    [
        ("bad_category", "image_id 101.*category id"),
        ("missing_segment_in_json", "image_id 101.*not in segments_info"),
        ("missing_segment_in_png", "image_id 101.*no pixel"),
        ("missing_png", "img1.png"),
        ("size", "image_id 101.*differ in size"),
    ],
)
def test_cli_bad_input_names_image(tmp_path, dataset, caplog, case, pattern):
    if case == "bad_category":
        _corrupt_json(
            tmp_path,
            "pred",
            lambda d: d["annotations"][1]["segments_info"][0].update(category_id=9),
        )
    elif case == "missing_segment_in_json":
        _corrupt_json(tmp_path, "pred", lambda d: d["annotations"][1]["segments_info"].pop(0))
    elif case == "missing_segment_in_png":
        _corrupt_json(
            tmp_path,
            "gt",
            lambda d: d["annotations"][1]["segments_info"].append({"id": 7, "category_id": 0}),
        )
    elif case == "missing_png":
        os.remove(tmp_path / "pred" / "img1.png")
    else:
        Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "pred" / "img1.png")
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2
    assert re.search(pattern, log), log


def test_cli_missing_prediction_and_help(tmp_path, dataset, caplog, capsys):
    _corrupt_json(tmp_path, "pred", lambda d: d["annotations"].pop(0))
    rc, log = _run_inprocess(tmp_path, caplog)
    assert rc == 2 and "image_id(s) [100]" in log
    with pytest.raises(SystemExit):
        _load_tool().main(["--help"])
    out = capsys.readouterr().out
    assert "--pred-scores" in out and ".npy" in out
