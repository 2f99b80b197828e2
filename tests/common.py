"""Shared helpers of the tests: small CPU configs of the GOSS model."""

from pathlib import Path

from detectron2.config import get_cfg

from goss import add_goss_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "projects" / "GOSS" / "configs"
SHARED = REPO.parent / "shared"


def get_goss_cfg(
    backbone="mobilenet_v2",
    num_known=3,
    train_mode="n_plus_one",
    identifier="n_plus_one",
    contrastive=True,
    weights="",
):
    """
    A small GOSS config for CPU tests: MobileNetV2 or a narrow ResNet-50, BN, no weights.
    """
    cfg = get_cfg()
    add_goss_config(cfg)
    base = "Base-GOSS-MobileNetV2.yaml" if backbone == "mobilenet_v2" else "Base-GOSS.yaml"
    cfg.merge_from_file(str(CONFIGS / base))
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = weights
    cfg.MODEL.RESNETS.NORM = "BN"
    cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
    cfg.MODEL.RESNETS.WIDTH_PER_GROUP = 16
    cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 16
    cfg.MODEL.SEM_SEG_HEAD.NORM = "BN"
    cfg.MODEL.SEM_SEG_HEAD.ASPP_CHANNELS = 32
    cfg.MODEL.SEM_SEG_HEAD.CONVS_DIM = 32
    cfg.MODEL.SEM_SEG_HEAD.PROJECT_CHANNELS = [16]
    cfg.MODEL.BPD_HEAD.CONVS_DIM = 16
    cfg.MODEL.CONTRASTIVE.PROJ_DIM = 16
    cfg.MODEL.GOSS.NUM_KNOWN_CLASSES = num_known
    cfg.MODEL.GOSS.TRAIN_MODE = train_mode
    cfg.MODEL.GOSS.IDENTIFIER = identifier
    cfg.MODEL.CONTRASTIVE.ENABLED = contrastive
    cfg.MODEL.CONTRASTIVE.MIN_PIXELS = 2
    return cfg
