"""tools/train_net.py --eval-only on a tiny checkpoint returns and writes the GQ results."""

import json

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model

from tests.common import small_goss_cfg, load_tool, write_tiny_goss_dataset

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


def test_eval_only_produces_evaluator_keys(tmp_path):
    write_tiny_goss_dataset(tmp_path / "data", "goss_test_tiny_eval", num_images=2)
    cfg = small_goss_cfg(num_known=3, train_mode="n_plus_one", identifier="n_plus_one")
    cfg.DATASETS.TEST = ("goss_test_tiny_eval",)
    cfg.INPUT.MIN_SIZE_TEST = 64
    cfg.INPUT.MAX_SIZE_TEST = 64
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.OUTPUT_DIR = str(tmp_path / "out")
    DetectionCheckpointer(build_model(cfg), save_dir=str(tmp_path)).save("tiny")
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(cfg.dump())

    train_net = load_tool("train_net")
    args = train_net.default_argument_parser().parse_args(
        ["--config-file", str(cfg_path), "--eval-only", "MODEL.WEIGHTS", str(tmp_path / "tiny.pth")]
    )
    results = train_net.main(args)
    assert EXPECTED_KEYS <= set(results["goss"])
    assert all(0.0 <= results["goss"][k] <= 100.0 for k in EXPECTED_KEYS)
    written = json.loads(
        (tmp_path / "out" / "inference" / "goss_test_tiny_eval" / "gq_results.json").read_text()
    )
    assert EXPECTED_KEYS <= set(written)
    assert written["GQ"] == results["goss"]["GQ"]
