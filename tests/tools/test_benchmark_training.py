"""tools/benchmark_training.py: one JSON line with per-variant step times and their ratios."""

import json

from tests.common import load_tool, write_tiny_goss_dataset


def test_benchmark_training_reports_every_variant(tmp_path, capsys):
    write_tiny_goss_dataset(tmp_path / "data", "goss_test_tiny_bench", num_images=2)
    out = tmp_path / "bench.json"
    result = load_tool("benchmark_training").main(
        [
            "--config-file", "projects/GOSS/configs/goss_shapes/gst_mobilenet_v2.yaml",
            "--rounds", "1", "--iters", "1", "--warmup", "0", "--batches", "1",
            "--variants", "fp32,channels_last+bf16", "--output", str(out),
            "MODEL.WEIGHTS", "", "MODEL.GOSS.NUM_KNOWN_CLASSES", "3",
            "DATASETS.TRAIN", "('goss_test_tiny_bench',)", "DATASETS.TEST", "()",
            "SOLVER.IMS_PER_BATCH", "2", "INPUT.MIN_SIZE_TRAIN", "(64,)",
            "INPUT.MAX_SIZE_TRAIN", "64",
        ]
    )  # fmt: skip
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line == json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert set(line["s_per_iter"]) == set(line["ratio"]) == {"fp32", "channels_last+bf16"}
    assert line["ratio"]["fp32"] == 1.0
    assert all(t > 0 for t in line["s_per_iter"].values())
    assert line["batch_size"] == 2 and line["data_s_per_batch"] > 0


def test_benchmark_training_rejects_an_unknown_variant(capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        load_tool("benchmark_training").main(["--config-file", "x.yaml", "--variants", "fp32,fp16"])
    assert e.value.code == 2
    assert "fp16" in capsys.readouterr().err
