"""tools/benchmark_model.py: per-part inference latency, one JSON line."""

import json

import pytest

from tests.common import CONFIGS, load_tool

MOBILENET = str(CONFIGS / "camvid_goss" / "mobilenet_v2" / "gst.yaml")


def test_benchmark_model_splits_the_pipeline(tmp_path, capsys):
    out = tmp_path / "bench.json"
    result = load_tool("benchmark_model").main(
        ["--model", MOBILENET, "--sizes", "64x96", "--num-images", "1", "--repeats", "1",
         "--output", str(out), "MODEL.GOSS.UNKNOWN_CLUSTERING", "super_bpd"]
    )  # fmt: skip
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line == json.loads(out.read_text()) == json.loads(json.dumps(result))
    (row,) = line["rows"]
    assert row["size"] == [64, 96] and row["weights"] == "random"
    assert row["clusterer"] == "super_bpd"
    ms = row["ms_per_image"]
    assert set(ms) == {
        "backbone", "semantic_head", "clustering_head", "identification", "clustering", "fusion"
    }  # fmt: skip
    assert all(v > 0 for v in ms.values()) and row["total_ms_per_image"] > 0
    base = ms["backbone"] + ms["semantic_head"] + ms["identification"]
    extra = ms["clustering_head"] + ms["clustering"] + ms["fusion"]
    assert row["clustering_overhead"] == pytest.approx(extra / base, abs=2e-3)
    gmacs = row["gmacs_per_image"]
    assert set(gmacs) == {"backbone", "semantic_head", "clustering_head"}
    assert all(v > 0 for v in gmacs.values())
    share = gmacs["clustering_head"] / (gmacs["backbone"] + gmacs["semantic_head"])
    assert row["clustering_head_gmac_share"] == pytest.approx(share, abs=2e-3)


def test_benchmark_model_parts_give_the_models_own_output(monkeypatch):
    """The timed pieces compute what model(inputs) computes: the same panoptic map."""
    import torch

    from detectron2.modeling import build_model
    from goss.config import get_goss_cfg
    from goss.modeling import postprocessing

    tool = load_tool("benchmark_model")
    cfg = get_goss_cfg(MOBILENET, ["MODEL.WEIGHTS", "", "MODEL.GOSS.MSP_THRESHOLD", "0.99"])
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    image = torch.randint(0, 256, (3, 64, 96)).float()
    seen = []
    real = postprocessing.get_goss_segmentation

    def spy(*a, **k):
        seen.append(real(*a, **k))
        return seen[-1]

    monkeypatch.setattr(postprocessing, "get_goss_segmentation", spy)
    tool._parts(model, image, tool._Timer("cpu"))
    with torch.no_grad():
        expected = model([{"image": image}])[0]["panoptic_seg"][0]
    assert torch.equal(seen[0], expected)
    assert (expected >= 8000).any()  # some unknown pixels were clustered


def test_benchmark_model_rejects_bad_sizes(capsys):
    with pytest.raises(SystemExit) as e:
        load_tool("benchmark_model").main(["--sizes", "360by480"])
    assert e.value.code == 2
    assert "--sizes" in capsys.readouterr().err
