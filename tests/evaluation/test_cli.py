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

from goss.utils.panoptic_ids import id2rgb
from goss.utils.reference.synthetic import random_pair

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "evaluate_goss.py")


def _categories(num_known=4):
    """The GT ``categories`` of the builder: train ids 0..N-1, then N = unknown."""
    cats = [{"id": i, "name": f"c{i}", "is_unknown": 0} for i in range(num_known)]
    return cats + [{"id": num_known, "name": "unknown", "is_unknown": 1}]


def _write_side(folder, name, pairs, which):
    os.makedirs(os.path.join(folder, name), exist_ok=True)
    anns = []
    for k, pair in enumerate(pairs):
        ids, segs = (pair[0], pair[1]) if which == "gt" else (pair[2], pair[3])
        fn = f"img{k}.png"
        Image.fromarray(id2rgb(ids)).save(os.path.join(folder, name, fn))
        anns.append({"image_id": 100 + k, "file_name": fn, "segments_info": segs})
    data = {"images": [{"id": 100 + k} for k in range(len(pairs))], "annotations": anns}
    if which == "gt":
        data["categories"] = _categories()
    js = os.path.join(folder, f"{name}.json")
    with open(js, "w") as f:
        json.dump(data, f)
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


def _strict_json(text):
    """json.loads that rejects NaN and Infinity, as strict parsers do."""

    def reject(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=reject)


def _args_with(tmp_path, **changes):
    """_args with options replaced or added (``--bootstrap 0`` unless changed)."""
    args = _args(tmp_path)
    for key, value in {"--bootstrap": "0", **changes}.items():
        if key in args:
            args[args.index(key) + 1] = value
        else:
            args += [key, value]
    return args


@pytest.mark.parametrize(
    "option,value",
    [
        ("--num-known", "0"),
        ("--num-known", "4096"),
        ("--num-known", "1000000000"),
        ("--num-known", "x"),
        ("--lam", "5"),
        ("--lam", "-0.1"),
        ("--lam", "nan"),
        ("--bootstrap", "-5"),
        ("--bootstrap", "100001"),
        ("--seed", "-1"),
    ],
)
def test_cli_bad_argument_is_one_line_naming_it(tmp_path, dataset, capsys, option, value):
    with pytest.raises(SystemExit) as e:
        _load_tool().main(_args_with(tmp_path, **{option: value}))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and value in err, err


def test_cli_num_known_must_match_the_categories(tmp_path, dataset, caplog):
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 0
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="evaluate_goss"):
        rc = _load_tool().main(_args_with(tmp_path, **{"--num-known": "7"}))
    assert rc == 2
    pattern = r"gt\.json: categories are 0\.\.4.*--num-known 7.*implies --num-known 4"
    assert re.search(pattern, caplog.text), caplog.text
    # the prediction JSON's categories, when it has them
    _corrupt_json(tmp_path, "pred", lambda d: d.update(categories=_categories(5)))
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2 and re.search(r"pred\.json: categories are 0\.\.5", log), log
    # the unknown category must be N
    cats = _categories()
    cats[0]["is_unknown"], cats[4]["is_unknown"] = 1, 0
    _corrupt_json(tmp_path, "pred", lambda d: d.update(categories=cats))
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2 and "unknown category must be id 4" in log, log
    # a GT without categories cannot be checked
    _corrupt_json(tmp_path, "gt", lambda d: d.pop("categories"))
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2 and "gt.json: no 'categories'" in log, log


def test_cli_empty_gt_is_an_error(tmp_path, dataset, caplog):
    _corrupt_json(tmp_path, "gt", lambda d: d.update(images=[], annotations=[]))
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2 and "gt.json: no annotations (empty ground truth)" in log, log


@pytest.mark.parametrize(
    "side,corrupt,pattern",
    [
        ("pred", lambda segs: segs[0].pop("id"), r"\[0\] has no 'id'"),
        ("pred", lambda segs: segs.insert(1, None), r"\[1\] must be an object"),
        ("gt", lambda segs: segs[0].update(category_id=1.5), r"\[0\]\.category_id must be an"),
        ("gt", lambda segs: segs[0].update(iscrowd="0"), r"\[0\]\.iscrowd must be 0, 1 or a"),
    ],
)
def test_cli_malformed_segments_info_names_file_and_field(
    tmp_path, dataset, caplog, side, corrupt, pattern
):
    _corrupt_json(tmp_path, side, lambda d: corrupt(d["annotations"][1]["segments_info"]))
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2
    where = re.escape(f"{tmp_path / side}.json: annotations[1] (image_id 101): segments_info")
    assert re.search(where + pattern, log), log
    assert len(log.strip().splitlines()) == 1, log


@pytest.mark.parametrize("segments", [{"id": 1, "category_id": 0}, None, "x"])
def test_cli_segments_info_not_a_list(tmp_path, dataset, caplog, segments):
    _corrupt_json(tmp_path, "pred", lambda d: d["annotations"][0].update(segments_info=segments))
    rc, log = _run_inprocess(tmp_path, caplog, "--bootstrap", "0")
    assert rc == 2 and "annotations[0] (image_id 100): segments_info must be a list" in log, log


def test_cli_output_checked_before_the_work(tmp_path, dataset, caplog, monkeypatch):
    tool = _load_tool()
    read = []
    monkeypatch.setattr(tool, "read_id_png", lambda path: read.append(path))
    out_dir = tmp_path / "res"
    out_dir.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    for output, message in (
        (out_dir, "is a directory"),
        (blocker / "r.json", f"{blocker} is not a directory"),
        (blocker / "sub" / "r.json", f"{blocker} is not a directory"),
        ("", "empty path"),
    ):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="evaluate_goss"):
            assert tool.main(_args(tmp_path, "--output", str(output))) == 2
        assert "--output" in caplog.text and message in caplog.text, caplog.text
    assert not read  # failed before any image was read
    assert sorted(os.listdir(out_dir)) == [] and not list(tmp_path.glob("**/*.tmp"))
    assert not list(tmp_path.glob("**/.tmp-*"))


def test_results_json_is_strict_and_no_tmp_file_is_left(tmp_path, dataset, caplog, capsys):
    from goss.evaluation import report

    # no unknown GT pixel: the pixel-score metrics are undefined (NaN) -> null
    def no_unknown(d):
        for ann in d["annotations"]:
            for seg in ann["segments_info"]:
                seg["category_id"] = min(seg["category_id"], 3)

    _corrupt_json(tmp_path, "gt", no_unknown)
    os.makedirs(tmp_path / "scores")
    for k, p in enumerate(dataset):
        np.save(tmp_path / "scores" / f"img{k}.npy", np.zeros(p[0].shape, np.float32))
    out = tmp_path / "r.json"
    scores = ("--pred-scores", str(tmp_path / "scores"), "--bootstrap", "0")
    assert _run_inprocess(tmp_path, caplog, "--output", str(out), *scores)[0] == 0
    res = _strict_json(out.read_text())
    assert res["AUROC"] is None and res["AUROC_per_image"] is None
    capsys.readouterr()
    assert _run_inprocess(tmp_path, caplog, *scores)[0] == 0  # results printed on stdout
    assert _strict_json(capsys.readouterr().out.strip().splitlines()[-1])["AUROC"] is None
    # a failed write removes its temp file
    with pytest.raises(TypeError):
        report._atomic_json(str(tmp_path / "x.json"), {"a": object()})
    (tmp_path / "d.json").mkdir()
    with pytest.raises(OSError):
        report._atomic_json(str(tmp_path / "d.json"), {"a": 1.0})
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "x.json").exists()
    assert not list(tmp_path.glob(".tmp-*"))
    assert report.json_safe({"a": [float("inf"), np.float32("nan"), 1.5], "b": (2,)}) == {
        "a": [None, None, 1.5],
        "b": [2],
    }


def _bad_npy(path, kind):
    if kind == "shape":
        np.save(path, np.zeros((3, 3), np.float32))
    elif kind == "dtype":
        np.save(path, np.zeros((48, 64), np.complex64))
    elif kind == "strings":
        np.save(path, np.full((48, 64), "a"))
    elif kind == "object":
        np.save(path, np.empty((48, 64), object), allow_pickle=True)
    elif kind == "float_clusters":
        np.save(path, np.zeros((48, 64), np.float32))
    else:  # not a .npy at all
        with open(path, "wb") as f:
            f.write(b"not an array")


@pytest.mark.parametrize(
    "option,kind,pattern",
    [
        ("--pred-scores", "shape", r"score map has shape \(3, 3\), the image is .* \[48, 64\]"),
        ("--pred-scores", "dtype", r"score map must have a real .* dtype, got complex64"),
        ("--pred-scores", "strings", r"score map must have a real .* dtype, got <U1"),
        ("--pred-scores", "object", r"cannot read score map as a \.npy array"),
        ("--pred-scores", "garbage", r"cannot read score map as a \.npy array"),
        ("--pred-clusters", "float_clusters", r"cluster map must have an integer dtype, got f"),
        ("--pred-clusters", "garbage", r"cannot read cluster map as a \.npy array"),
    ],
)
def test_cli_bad_npy_names_the_file(tmp_path, dataset, caplog, option, kind, pattern):
    folder = tmp_path / "maps"
    folder.mkdir()
    for k, p in enumerate(dataset):
        np.save(folder / f"img{k}.npy", np.zeros(p[0].shape, np.int32))
    _bad_npy(folder / "img1.npy", kind)
    rc, log = _run_inprocess(tmp_path, caplog, option, str(folder), "--bootstrap", "0")
    assert rc == 2
    assert re.search(re.escape(str(folder / "img1.npy")) + ": " + pattern, log), log
    assert len(log.strip().splitlines()) == 1, log


def test_cli_failed_write_keeps_the_results_on_stdout(tmp_path, dataset, caplog, capsys):
    tool = _load_tool()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    tool.write_results = full_disk
    with caplog.at_level(logging.INFO, logger="evaluate_goss"):
        rc = tool.main(_args_with(tmp_path, **{"--output": str(tmp_path / "r.json")}))
    assert rc == 2 and "cannot write" in caplog.text and "No space left" in caplog.text
    assert _strict_json(capsys.readouterr().out.strip().splitlines()[-1])["num_images"] == 3


def test_cli_reports_smiyc_component_metrics(tmp_path, dataset, caplog, capsys):
    from goss.evaluation.accumulator import GQAccumulator

    os.makedirs(tmp_path / "scores")
    rng = np.random.default_rng(2)
    scores = [rng.random(p[0].shape).astype(np.float32) for p in dataset]
    for k, s in enumerate(scores):
        np.save(tmp_path / "scores" / f"img{k}.npy", s)
    out = tmp_path / "results.json"
    extra = ["--output", str(out), "--bootstrap", "0", "--smiyc-min-size", "5"]
    rc, _ = _run_inprocess(
        tmp_path,
        caplog,
        *extra,
        "--pred-scores",
        str(tmp_path / "scores"),
        "--smiyc-threshold",
        "0.9",
    )
    assert rc == 0
    res = json.loads(out.read_text())
    acc = GQAccumulator(4, smiyc_min_gt_size=5, smiyc_score_threshold=0.9)
    for p, s in zip(dataset, scores):
        acc.add_image(0, *p, unknown_score=s)
    expect, _ = acc.summarize(bootstrap_samples=0)
    for key in ("sIoU_uk", "PPV_uk", "mF1_uk", "mF1_uk_thresholded", "num_uk_components"):
        assert res[key] == pytest.approx(expect[key]), key
    assert res["num_uk_components"] > 0
    assert "unknown components (SMIYC" in capsys.readouterr().out
    # the thresholded row needs the score maps
    rc, log = _run_inprocess(tmp_path, caplog, *extra, "--smiyc-threshold", "0.5")
    assert rc == 2 and "--smiyc-threshold needs --pred-scores" in log
