"""Every config under projects/GOSS/configs merges, names registered datasets, and builds on CPU."""

from pathlib import Path

import pytest
import torch

from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import build_model
from goss import add_goss_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "projects" / "GOSS" / "configs"
LEAVES = sorted(p for p in CONFIG_DIR.rglob("*.yaml") if not p.name.startswith("Base-"))


def load_cfg(path):
    cfg = get_cfg()
    add_goss_config(cfg)
    cfg.merge_from_file(str(path))
    cfg.MODEL.DEVICE = "cpu"
    return cfg


def test_there_are_configs_for_every_paper_row():
    names = {str(p.relative_to(CONFIG_DIR)) for p in LEAVES}
    for split in ("voc", "manual", "random"):
        for row in ("n_msp", "n_max_logit", "n_plus_one", "n_plus_one_ca", "n_plus_one_cl", "gst"):
            assert f"coco_stuff_goss/{split}/{row}.yaml" in names
    for split in ("16_3", "13_6"):
        for row in ("n_msp", "n_max_logit", "gst"):
            assert f"cityscapes_goss/{split}/{row}.yaml" in names
    assert "GST_R50.yaml" in names


def test_there_are_configs_for_the_dml_and_dfc_rows():
    names = {str(p.relative_to(CONFIG_DIR)) for p in LEAVES}
    splits = ["coco_stuff_goss/" + s for s in ("voc", "manual", "random")]
    splits += ["cityscapes_goss/16_3", "cityscapes_goss/13_6", "camvid_goss/mobilenet_v2"]
    for split in splits:
        dml, dfc = (
            load_cfg(CONFIG_DIR / split / "n_dml.yaml"),
            load_cfg(CONFIG_DIR / split / "gst_dfc.yaml"),
        )
        assert dml.MODEL.DML.ENABLED and dml.MODEL.GOSS.IDENTIFIER == "dml"
        assert dfc.MODEL.GOSS.CLUSTERING_BRANCH == "dfc" == dfc.MODEL.GOSS.UNKNOWN_CLUSTERING
        # each row is its sibling's model with only its own change, in its own folder
        n, gst = (
            load_cfg(CONFIG_DIR / split / "n_msp.yaml"),
            load_cfg(CONFIG_DIR / split / "gst.yaml"),
        )
        assert dml.OUTPUT_DIR != n.OUTPUT_DIR and dfc.OUTPUT_DIR != gst.OUTPUT_DIR
        assert (
            dml.DATASETS.dump() == n.DATASETS.dump() and dfc.DATASETS.dump() == gst.DATASETS.dump()
        )
    assert "camvid_goss/mobilenet_v2/gst_felzenszwalb.yaml" in names


@pytest.mark.parametrize("path", LEAVES, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_config_merges_and_names_registered_data(path):
    cfg = load_cfg(path)
    assert cfg.MODEL.META_ARCHITECTURE == "GOSS"
    for name in cfg.DATASETS.TRAIN + cfg.DATASETS.TEST:
        assert name in DatasetCatalog.list(), f"{path}: dataset {name} is not registered"
        meta = MetadataCatalog.get(name)
        assert meta.evaluator_type == "goss"
        assert len(meta.stuff_classes) == cfg.MODEL.GOSS.NUM_KNOWN_CLASSES + 1, name
        assert meta.stuff_classes[-1] == "unknown"
    if cfg.MODEL.GOSS.IDENTIFIER == "n_plus_one":
        assert cfg.MODEL.GOSS.TRAIN_MODE == "n_plus_one"


def _distinct_models():
    seen = {}
    for path in LEAVES:
        cfg = load_cfg(path)
        seen.setdefault(cfg.MODEL.dump(), path)
    return sorted(seen.values())


@pytest.mark.parametrize("path", _distinct_models(), ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_model_builds_and_runs_on_cpu(path):
    cfg = load_cfg(path)
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.RESNETS.NORM = "BN"
    cfg.MODEL.SEM_SEG_HEAD.NORM = "BN"
    model = build_model(cfg).eval()
    with torch.no_grad():
        out = model([{"image": torch.zeros(3, 64, 64), "height": 64, "width": 64}])[0]
    num_outputs = cfg.MODEL.GOSS.NUM_KNOWN_CLASSES + (cfg.MODEL.GOSS.TRAIN_MODE == "n_plus_one")
    assert out["sem_seg"].shape == (num_outputs, 64, 64)  # a DML model's too: N distance logits
    assert out["panoptic_seg"][0].shape == (64, 64)


# evaluation-only leaves -> the sibling config whose trained model they evaluate
EVAL_ONLY = {
    "n_max_logit.yaml": "n_msp.yaml",
    "n_plus_one_ca.yaml": "n_plus_one.yaml",
    "gst_felzenszwalb.yaml": "gst.yaml",
}


@pytest.mark.parametrize(
    "path",
    [p for p in LEAVES if p.name in EVAL_ONLY],
    ids=lambda p: str(p.relative_to(CONFIG_DIR)),
)
def test_evaluation_only_leaves_evaluate_their_siblings_model(path):
    cfg = load_cfg(path)
    trained = load_cfg(path.with_name(EVAL_ONLY[path.name]))
    assert cfg.MODEL.WEIGHTS == f"{trained.OUTPUT_DIR}/model_final.pth"
    assert cfg.OUTPUT_DIR.startswith(trained.OUTPUT_DIR + "/")  # its own folder, beside the model
    # the same model and data: only test-time keys differ
    cfg.MODEL.WEIGHTS = trained.MODEL.WEIGHTS
    for key in ("IDENTIFIER", "CONFIDENCE_ADJUSTMENT", "UNKNOWN_CLUSTERING"):
        cfg.MODEL.GOSS[key] = trained.MODEL.GOSS[key]
    assert cfg.MODEL.dump() == trained.MODEL.dump()
    assert cfg.DATASETS.dump() == trained.DATASETS.dump()
    assert "Evaluation only" in path.read_text()
