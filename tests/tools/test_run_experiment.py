"""tools/run_experiment.py end to end on a tiny goss_shapes schedule (about two minutes)."""

import json
import os
import subprocess
import sys

import pytest

from tests.common import REPO, load_tool


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiment")
    cmd = [
        sys.executable,
        "tools/run_experiment.py",
        "--benchmark", "goss_shapes",
        "--schedule", "tiny",
        "--output", str(out / "run"),
        "--datasets", str(out / "datasets"),
        "--results", str(out / "results"),
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    first = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stderr[-3000:]
    second = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    return out, first.stderr, second.stderr


def test_every_row_is_in_the_results(experiment):
    out, _, _ = experiment
    payload = json.loads((out / "results.json").read_text())
    rows = {(r["model"], r["row"]) for r in payload["rows"]}
    for model in ("N-model", "GST"):
        assert (model, "as configured") in rows
        assert (model, "as configured (train_net.py --eval-only)") in rows
        # goss_shapes names the GST's clusterers, the defaults otherwise
        tool = load_tool("run_experiment")
        bench = tool.BENCHMARKS["goss_shapes"]
        for ident in tool.IDENTIFIERS:
            for clu in bench["clusterers"].get(model, tool.CLUSTERERS):
                assert (model, f"{ident}/{clu}") in rows
    assert ("GST", "energy/seeded_components") in rows
    gst = json.loads((out / "run" / "calibration" / "GST" / "calibration.json").read_text())
    assert gst["field_sigmas"] == [0.0, 1.0]
    sigma = "MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA"
    assert sigma in gst["best"]["msp/split_components"]["settings"]
    text = (out / "results.md").read_text()
    assert "python tools/run_experiment.py --benchmark goss_shapes" in text
    assert "GT unknown mask, connected components" in text
    for r in payload["rows"]:
        assert "GQ_CI95" in r["metrics"] and "GQ_uk_oracle_id_one_segment" in r["metrics"]


def test_cached_rows_equal_eval_only(experiment):
    """The calibration tool's cached evaluation scores exactly as train_net.py --eval-only."""
    out, _, _ = experiment
    rows = json.loads((out / "results.json").read_text())["rows"]
    for model in ("N-model", "GST"):
        cached = next(r for r in rows if r["model"] == model and r["row"] == "as configured")
        direct = next(r for r in rows if r["model"] == model and r["row"].endswith("--eval-only)"))
        for key in ("GQ", "GQ_kn", "GQ_uk", "TP_uk", "FP_uk", "FN_uk", "AUROC", "GQ_clu"):
            assert cached["metrics"].get(key) == pytest.approx(direct["metrics"].get(key)), key


def test_sweep_scores_equal_the_full_evaluation_of_each_calibrated_config(experiment):
    """What calibration reports for a pair is what evaluating its written config gives."""
    out, _, _ = experiment
    rows = json.loads((out / "results.json").read_text())["rows"]
    for model in ("N-model", "GST"):
        path = out / "run" / "calibration" / model / "calibration.json"
        calibration = json.loads(path.read_text())
        for pair, best in calibration["best"].items():
            assert os.path.isfile(calibration["configs"][pair])
            row = next(r for r in rows if r["model"] == model and r["row"] == pair)
            assert row["metrics"]["GQ"] == pytest.approx(best["GQ"]), (model, pair)
            assert row["settings"] == best["settings"]


def test_rerun_skips_every_finished_stage(experiment):
    _, first, second = experiment
    stages = ("build", "train_N-model", "train_GST", "calibrate_N-model", "calibrate_GST")
    for stage in stages:
        assert f"[{stage}] running" in first
        assert f"[{stage}] done earlier, skipped" in second


def test_models_reruns_some_and_carries_the_others_rows_over(experiment):
    out, _, _ = experiment
    recorded = json.loads((out / "results.json").read_text())
    # a marked copy of the results file: N-model's rows must come back as they are recorded
    for r in recorded["rows"]:
        if r["model"] == "N-model":
            r["metrics"]["GQ"] = -1.0
    (out / "carry.json").write_text(json.dumps(recorded))
    cmd = [sys.executable, "tools/run_experiment.py", "--benchmark", "goss_shapes",
           "--schedule", "tiny", "--output", str(out / "run"), "--datasets", str(out / "datasets"),
           "--results", str(out / "carry"), "--models", "GST"]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "[calibrate_GST] done earlier, skipped" in run.stderr
    assert "train_N-model" not in run.stderr and "calibrate_N-model" not in run.stderr
    payload = json.loads((out / "carry.json").read_text())
    assert payload["carried_over"] == ["N-model"]
    assert "--models" not in payload["command"]
    carried = [r for r in payload["rows"] if r["model"] == "N-model"]
    assert carried and all(r["metrics"]["GQ"] == -1.0 for r in carried)
    # GST's rows are evaluated again (from its cached stages: the first run's values)
    first = json.loads((out / "results.json").read_text())["rows"]
    assert [r for r in payload["rows"] if r["model"] == "GST"] == [
        r for r in first if r["model"] == "GST"
    ]
    # in the benchmark's order of models
    assert [r["model"] for r in payload["rows"]] == [r["model"] for r in recorded["rows"]]
    assert "(N-model) are those of earlier runs" in (out / "carry.md").read_text()
    # a name the benchmark does not have, and a results file without the other models' rows
    bad = subprocess.run(cmd[:-1] + ["nope"], cwd=REPO, env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "--models: no model nope" in bad.stderr
    missing = [*cmd[:-3], str(out / "none"), "--models", "GST"]
    bad = subprocess.run(missing, cwd=REPO, env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "none.json does not exist" in bad.stderr


def test_selected_models_adds_the_weights_they_reuse():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    evaluated, trained = tool.selected_models(bench, ["N+1-OE-mixed-full-novoid-flip", "GST"])
    assert evaluated == ["GST", "N+1-OE-mixed-full-novoid-flip"]  # the benchmark's order
    assert trained == ["GST", "N+1-OE-mixed-full-novoid"]
    evaluated, trained = tool.selected_models(bench, None)
    assert evaluated == list(bench["models"])
    assert set(trained) == set(bench["models"]) - set(bench["reuse"])
    assert tool._command(["--output", "o", "--models", "A", "B", "--full"]) == (
        "python tools/run_experiment.py --output o --full"
    )


def test_a_models_own_overrides_come_after_the_schedules():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    schedule = bench["schedules"]["cpu"]
    cmd = tool.train_command(bench, "N+1-OE-full", schedule, "/out/m", py="python")
    assert cmd[:4] == [
        "python",
        "tools/train_net.py",
        "--config-file",
        bench["models"]["N+1-OE-full"],
    ]
    assert cmd[-2:] == ["OUTPUT_DIR", "/out/m"]
    # the last INPUT.CROP.SIZE wins in Detectron2's merge_from_list: the model's full resolution
    crops = [cmd[i + 1] for i, v in enumerate(cmd) if v == "INPUT.CROP.SIZE"]
    assert crops == ["(176, 176)", "(352, 352)"]
    plain = tool.train_command(bench, "N+1-OE", schedule, "/out/m", py="python")
    assert plain == [
        "python",
        "tools/train_net.py",
        "--config-file",
        bench["models"]["N+1-OE"],
        *schedule,
        "OUTPUT_DIR",
        "/out/m",
    ]
    test = tool.eval_overrides(bench, "N+1-OE-full", schedule)
    assert test[: len(schedule)] == schedule
    assert test[len(schedule) :] == ["INPUT.MIN_SIZE_TEST", "360", "INPUT.MAX_SIZE_TEST", "480"]
    assert tool.eval_overrides(bench, "GST", schedule) == schedule


def test_the_image_texture_models():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    schedule = bench["schedules"]["cpu"]
    for model in ("N+1-OE-image-full", "N+1-OE-image-full-bpd", "N+1-OE-mixed-full"):
        assert bench["models"][model].endswith("n_plus_one_oe_image.yaml")
        cmd = tool.train_command(bench, model, schedule, "/out/m", py="python")
        assert [cmd[i + 1] for i, v in enumerate(cmd) if v == "INPUT.CROP.SIZE"][-1] == "(352, 352)"
        weights = [cmd[i + 1] for i, v in enumerate(cmd) if v == "MODEL.BPD_HEAD.LOSS_WEIGHT"]
        assert weights == (["2.3e-4"] if model.endswith("-bpd") else [])
        textures = [cmd[i + 1] for i, v in enumerate(cmd) if v == "INPUT.OUTLIER_PASTE.TEXTURE"]
        assert textures == (["mixed"] if "mixed" in model else [])
    from goss.config import get_goss_cfg

    cfg = get_goss_cfg(bench["models"]["N+1-OE-image-full"])
    assert cfg.INPUT.OUTLIER_PASTE.ENABLED and cfg.INPUT.OUTLIER_PASTE.TEXTURE == "image"


def test_the_small_outlier_model_and_the_flip_rows():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    schedule = bench["schedules"]["cpu"]
    from goss.config import get_goss_cfg

    cfg = get_goss_cfg(
        bench["models"]["N+1-OE-small-full"],
        tool.train_command(bench, "N+1-OE-small-full", schedule, "/o", py="python")[4:-2],
    )
    paste = cfg.INPUT.OUTLIER_PASTE
    assert paste.ENABLED and paste.TEXTURE == "mixed" and paste.SIZE_SAMPLING == "log_uniform"
    assert tuple(paste.SIZE_RANGE) == (0.02, 0.3) and paste.MAX_OBJECTS == 6
    assert tuple(cfg.INPUT.CROP.SIZE) == (352, 352)  # trained at full resolution
    # the -flip rows evaluate the weights of their model with TTA: the image and its mirror
    for flip, base in (("N+1-OE-mixed-full-flip", "N+1-OE-mixed-full"),
                       ("N+1-OE-small-full-flip", "N+1-OE-small-full"),
                       ("N+1-OE-mixed-full-novoid-flip", "N+1-OE-mixed-full-novoid")):  # fmt: skip
        assert bench["reuse"][flip] == base and flip not in bench["train_opts"]
        cfg = get_goss_cfg(bench["models"][flip], tool.eval_overrides(bench, flip, schedule))
        assert cfg.TEST.AUG.ENABLED and cfg.TEST.AUG.FLIP
        assert tuple(cfg.TEST.AUG.MIN_SIZES) == (cfg.INPUT.MIN_SIZE_TEST,) == (360,)
        # at the test size of the model it reuses
        base_opts = tool.eval_overrides(bench, base, schedule)
        assert tool.eval_overrides(bench, flip, schedule)[: len(base_opts)] == base_opts


def test_the_multiscale_rows():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    schedule = bench["schedules"]["cpu"]
    from goss.config import get_goss_cfg

    # the void-free weights at the mirror rows' size and 1.5 times it, each view also mirrored
    for model in ("N+1-OE-mixed-full-novoid-ms", "N+1-OE-mixed-full-novoid-ms-clu"):
        assert bench["reuse"][model] == "N+1-OE-mixed-full-novoid"
        cfg = get_goss_cfg(bench["models"][model], tool.eval_overrides(bench, model, schedule))
        assert cfg.TEST.AUG.ENABLED and cfg.TEST.AUG.FLIP and cfg.INPUT.MIN_SIZE_TEST == 360
        assert tuple(cfg.TEST.AUG.MIN_SIZES) == (360, 540) and cfg.TEST.AUG.MAX_SIZE == 720
    for model in ("N+1-OE-mixed-full-novoid-ms3-r3", "N+1-OE-mixed-full-novoid-ms3-clu"):
        assert bench["reuse"][model] == "N+1-OE-mixed-full-novoid"
        cfg = get_goss_cfg(bench["models"][model], tool.eval_overrides(bench, model, schedule))
        assert tuple(cfg.TEST.AUG.MIN_SIZES) == (360, 540, 720) and cfg.TEST.AUG.MAX_SIZE == 960
    for model in ("ms-clu", "ms3-clu"):
        model = "N+1-OE-mixed-full-novoid-" + model
        assert tool.model_opts(bench, "calibrate", model)[:2] == ["--partition-objective", "GQ_clu"]
    # -r3, -scope and -ref differ from their rows in calibration arguments alone
    model = "N+1-OE-mixed-full-novoid-ms3-clu-ref"
    own = tool.model_opts(bench, "calibrate", model)
    assert own[own.index("--refinements") + 1] == "3"
    assert [o for o in own if o not in ("--refinements", "3")] == tool.model_opts(
        bench, "calibrate", "N+1-OE-mixed-full-novoid-ms3-clu"
    )
    assert tool.eval_overrides(bench, model, schedule) == (
        tool.eval_overrides(bench, "N+1-OE-mixed-full-novoid-ms3-clu", schedule)
    )
    model = "N+1-OE-mixed-full-novoid-ms3-scope"
    assert tool.model_opts(bench, "calibrate", model) == ["--seed-scopes", "image", "component"]
    assert tool.eval_overrides(bench, model, schedule) == (
        tool.eval_overrides(bench, "N+1-OE-mixed-full-novoid-ms3-r3", schedule)
    )
    assert tool.model_opts(bench, "calibrate", "N+1-OE-mixed-full-novoid-ms-r3") == [
        "--rounds",
        "3",
    ]
    assert tool.eval_overrides(bench, "N+1-OE-mixed-full-novoid-ms-r3", schedule) == (
        tool.eval_overrides(bench, "N+1-OE-mixed-full-novoid-ms", schedule)
    )


def test_the_void_free_class_n_model():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    from goss.config import get_goss_cfg

    model = "N+1-OE-mixed-full-novoid"
    cmd = tool.train_command(bench, model, bench["schedules"]["cpu"], "/o", py="python")
    cfg = get_goss_cfg(bench["models"][model], cmd[4:-2])
    assert not cfg.MODEL.GOSS.VOID_AS_UNKNOWN and cfg.INPUT.OUTLIER_PASTE.ENABLED
    assert cfg.INPUT.OUTLIER_PASTE.TEXTURE == "mixed" and tuple(cfg.INPUT.CROP.SIZE) == (352, 352)


def test_the_partition_objective_row():
    tool = load_tool("run_experiment")
    bench = tool.BENCHMARKS["camvid_goss"]
    model = "N+1-OE-small-full-flip-clu"
    assert bench["reuse"][model] == "N+1-OE-small-full"
    assert tool.model_opts(bench, "calibrate", model) == ["--partition-objective", "GQ_clu"]
    # the same test-time augmentation as the row it differs from only in calibration
    schedule = bench["schedules"]["cpu"]
    assert tool.eval_overrides(bench, model, schedule) == tool.eval_overrides(
        bench, "N+1-OE-small-full-flip", schedule
    )
    assert tool.model_opts(bench, "calibrate", "N+1-OE-small-full-flip") == []


def test_every_calibrate_command_parses_as_calibrate_goss_reads_it():
    tool = load_tool("run_experiment")
    parser = load_tool("calibrate_goss").get_parser()
    for name, bench in tool.BENCHMARKS.items():
        schedule = next(iter(bench["schedules"].values()))
        for model in bench["models"]:
            cmd = tool.calibrate_command(bench, model, schedule, "/w.pth", "/c", ["x_val"], "py")
            args = parser.parse_args(cmd[2:])
            assert args.evaluate == ["x_val"], (name, model)
            # the model's config overrides reach the config, its own arguments the tool
            assert args.opts == [*tool.eval_overrides(bench, model, schedule), "MODEL.WEIGHTS",
                                 "/w.pth"], (name, model)  # fmt: skip
            own = tool.model_opts(bench, "calibrate", model)
            if "--field-sigmas" in own:
                assert args.field_sigmas == [
                    float(v) for v in own[own.index("--field-sigmas") + 1 :]
                ]
            if "--partition-objective" in own:
                assert args.partition_objective == "GQ_clu"
