"""Detectron2 v0.6 + the GOSS shims build and train a tiny DeepLabV3+ on the CPU."""

import torch

from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.projects.deeplab import add_deeplab_config


def _tiny_deeplab_cfg():
    cfg = get_cfg()
    add_deeplab_config(cfg)
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.META_ARCHITECTURE = "SemanticSegmentor"
    cfg.MODEL.BACKBONE.NAME = "build_resnet_deeplab_backbone"
    cfg.MODEL.RESNETS.DEPTH = 50
    cfg.MODEL.RESNETS.NORM = "BN"
    cfg.MODEL.RESNETS.OUT_FEATURES = ["res2", "res5"]
    cfg.MODEL.RESNETS.RES5_DILATION = 2
    cfg.MODEL.RESNETS.STEM_TYPE = "deeplab"
    cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 128
    cfg.MODEL.RESNETS.STRIDE_IN_1X1 = False
    cfg.MODEL.SEM_SEG_HEAD.NAME = "DeepLabV3PlusHead"
    cfg.MODEL.SEM_SEG_HEAD.IN_FEATURES = ["res2", "res5"]
    cfg.MODEL.SEM_SEG_HEAD.PROJECT_FEATURES = ["res2"]
    cfg.MODEL.SEM_SEG_HEAD.PROJECT_CHANNELS = [16]
    cfg.MODEL.SEM_SEG_HEAD.ASPP_CHANNELS = 32
    cfg.MODEL.SEM_SEG_HEAD.CONVS_DIM = 32
    cfg.MODEL.SEM_SEG_HEAD.COMMON_STRIDE = 4
    cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES = 5
    cfg.MODEL.SEM_SEG_HEAD.NORM = "BN"
    cfg.MODEL.SEM_SEG_HEAD.LOSS_TYPE = "cross_entropy"
    return cfg


def test_deeplab_v3_plus_forward_backward_cpu():
    torch.manual_seed(0)
    model = build_model(_tiny_deeplab_cfg())
    model.train()
    batch = [
        {
            "image": torch.randint(0, 255, (3, 64, 96)).float(),
            "sem_seg": torch.randint(0, 5, (64, 96)),
        }
        for _ in range(2)
    ]
    losses = model(batch)
    assert set(losses) == {"loss_sem_seg"}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)

    model.eval()
    with torch.no_grad():
        out = model([{"image": torch.zeros(3, 64, 96), "height": 64, "width": 96}])
    assert out[0]["sem_seg"].shape == (5, 64, 96)
