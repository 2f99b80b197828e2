"""GQEvaluator on a tiny registered dataset with fake model outputs (no model)."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from detectron2.data import MetadataCatalog
from goss.evaluation import GQAccumulator, GQEvaluator
from goss.utils.panoptic_ids import id2rgb
from goss.utils.reference.synthetic import random_pair

N = 4


def _register(name):
    if name not in MetadataCatalog.list():
        MetadataCatalog.get(name).set(
            stuff_classes=[f"k{i}" for i in range(N)] + ["unknown"],
            ignore_label=255,
            label_divisor=1000,
        )


def _fake(tmp_path, seed=0, num=3):
    """Inputs (GT PNGs on disk) and outputs with GOSS panoptic ids, plus the raw pairs."""
    rng = np.random.default_rng(seed)
    inputs, outputs, pairs = [], [], []
    for k in range(num):
        gt, gs, pred, ps = random_pair(rng, num_known=N, big_ids=True)
        path = tmp_path / f"gt{k}.png"
        Image.fromarray(id2rgb(gt)).save(path)
        inputs.append(
            {
                "image_id": k,
                "file_name": f"img{k}.jpg",
                "pan_seg_file_name": str(path),
                "segments_info": gs,
            }
        )
        new = {s["id"]: s["category_id"] * 1000 + j + 1 for j, s in enumerate(ps)}
        pan = np.vectorize(lambda v: new.get(v, -1))(pred).astype(np.int32)
        outputs.append(
            {
                "panoptic_seg": (torch.from_numpy(pan), None),
                "sem_seg": torch.zeros(N + 1, *pan.shape),
                "unknown_score": torch.from_numpy(rng.random(pan.shape).astype(np.float32)),
                "clusters": torch.from_numpy(rng.integers(0, 5, pan.shape).astype(np.int32)),
            }
        )
        pairs.append((gt, gs, pred, ps))
    return inputs, outputs, pairs


def test_evaluator_matches_accumulator_and_writes_files(tmp_path):
    _register("goss_test_tiny")
    inputs, outputs, pairs = _fake(tmp_path)
    ev = GQEvaluator("goss_test_tiny", output_dir=str(tmp_path / "out"), distributed=False)
    ev.reset()
    ev.process(inputs[:2], outputs[:2])
    ev.process(inputs[2:], outputs[2:])
    res = ev.evaluate()["goss"]
    acc = GQAccumulator(N)
    for p in pairs:
        acc.add_image(0, *p)
    expect, _ = acc.summarize(bootstrap_samples=0)
    for k in ("GQ", "GQ_kn", "GQ_kn_present", "GQ_uk", "SQ_uk", "RQ_kn", "mIoU"):
        assert res[k] == pytest.approx(expect[k]), k
    for k in ("GQ_clu", "AUROC", "AUPR", "FPR95", "AUROC_per_image"):
        assert 0.0 <= res[k] <= 100.0
    assert res["num_images"] == 3
    js = json.loads((tmp_path / "out" / "gq_results.json").read_text())
    assert js["GQ"] == pytest.approx(res["GQ"]) and len(js["GQ_CI95"]) == 2
    assert os.path.exists(tmp_path / "out" / "gq_per_class.csv")
    assert os.path.exists(tmp_path / "out" / "gq_per_image.csv")


def test_evaluator_perfect_prediction(tmp_path):
    _register("goss_test_tiny")
    inputs, outputs, pairs = _fake(tmp_path, seed=1, num=2)
    for inp, out, (gt, gs, _, _) in zip(inputs, outputs, pairs):
        inp["segments_info"] = [dict(s, iscrowd=0) for s in gs]
        new = {s["id"]: s["category_id"] * 1000 + j + 1 for j, s in enumerate(gs)}
        out["panoptic_seg"] = (torch.from_numpy(np.vectorize(lambda v: new.get(v, -1))(gt)), None)
        del out["clusters"]  # without a clustering map, GQ_clu is not reported
    ev = GQEvaluator("goss_test_tiny", bootstrap_samples=0)  # distributed, world size 1
    ev.process(inputs, outputs)
    res = ev.evaluate()["goss"]
    assert res["GQ_kn_present"] == pytest.approx(100.0)
    assert res["GQ_uk"] == pytest.approx(100.0) and res["mIoU"] == pytest.approx(100.0)
    assert "GQ_clu" not in res


def test_evaluator_bad_output_names_image(tmp_path):
    _register("goss_test_tiny")
    inputs, outputs, _ = _fake(tmp_path, num=1)
    pan = outputs[0]["panoptic_seg"][0].clone()
    pan[0, 0] = 9 * 1000  # category 9 does not exist
    outputs[0]["panoptic_seg"] = (pan, None)
    ev = GQEvaluator("goss_test_tiny", distributed=False)
    with pytest.raises(ValueError, match="image_id 0.*categories outside"):
        ev.process(inputs, outputs)
    inputs[0]["pan_seg_file_name"] = str(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError, match="nope.png"):
        ev.process(inputs, outputs)


def test_evaluator_refuses_a_model_that_disagrees_with_the_metadata():
    _register("goss_test_tiny")
    GQEvaluator("goss_test_tiny", num_known=N, label_divisor=1000)  # as the metadata says
    with pytest.raises(ValueError, match="label_divisor is 256 .*'goss_test_tiny'.* 1000"):
        GQEvaluator("goss_test_tiny", num_known=N, label_divisor=256)
    with pytest.raises(ValueError, match="num_known is 3 .*'goss_test_tiny' has 4"):
        GQEvaluator("goss_test_tiny", num_known=3)


def test_evaluator_requires_metadata():
    MetadataCatalog.get("goss_test_nometa")
    with pytest.raises(ValueError, match="goss_test_nometa"):
        GQEvaluator("goss_test_nometa")


@pytest.mark.parametrize("diagnostics", [True, False])
def test_evaluator_diagnostics_switch(tmp_path, diagnostics):
    _register("goss_test_tiny")
    inputs, outputs, _ = _fake(tmp_path, num=2)
    ev = GQEvaluator("goss_test_tiny", distributed=False, diagnostics=diagnostics)
    ev.reset()
    ev.process(inputs, outputs)
    res = ev.evaluate()["goss"]
    assert ("GQ_uk_oracle_id_connected_components" in res) == diagnostics
    assert ("GQ_uk_oracle_id_model_clusters" in res) == diagnostics  # from the clusters output
    assert "GQ" in res and "TP_uk" in res


def test_evaluator_reports_smiyc_component_metrics(tmp_path, caplog):
    _register("goss_test_tiny")
    inputs, outputs, pairs = _fake(tmp_path, seed=2)
    options = dict(smiyc_min_gt_size=5, smiyc_min_pred_size=2, smiyc_score_threshold=0.8)
    ev = GQEvaluator("goss_test_tiny", distributed=False, diagnostics=False, **options)
    ev.process(inputs, outputs)
    with caplog.at_level("INFO", logger="goss.evaluation.gq_evaluator"):
        res = ev.evaluate()["goss"]
    acc = GQAccumulator(N, diagnostics=False, **options)
    for p, out in zip(pairs, outputs):
        acc.add_image(0, *p, unknown_score=out["unknown_score"].numpy())
    expect, _ = acc.summarize(bootstrap_samples=0)
    for k in ("sIoU_uk", "PPV_uk", "mF1_uk", "sIoU_uk_thresholded", "mF1_uk_thresholded"):
        assert res[k] == pytest.approx(expect[k]), k
    assert res["num_uk_components"] > 0
    assert "unknown components (SMIYC" in caplog.text
