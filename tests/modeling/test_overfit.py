"""Overfitting two goss_shapes images drives every GOSS loss down."""

import numpy as np
import torch

from detectron2.modeling import build_model
from goss.data import GOSSDatasetMapper
from goss.data.datasets import load_goss_json
from goss.data.shapes import build_goss_shapes
from tests.common import small_goss_cfg


def test_overfit_two_goss_shapes_images(tmp_path):
    build_goss_shapes(tmp_path, num_train=2, num_val=1, image_size=64, seed=3)
    split = tmp_path / "goss_shapes" / "train"
    records = load_goss_json(
        str(split / "panoptic.json"),
        str(split / "images"),
        str(split / "panoptic"),
        sem_seg_root=str(split / "sem_seg"),
    )
    assert len(records) == 2
    torch.manual_seed(0)
    np.random.seed(0)
    cfg = small_goss_cfg(num_known=6, train_mode="n_plus_one", identifier="n_plus_one")
    cfg.INPUT.MIN_SIZE_TRAIN = (64,)
    cfg.INPUT.MAX_SIZE_TRAIN = 64
    cfg.INPUT.CROP.ENABLED = False
    cfg.INPUT.RANDOM_FLIP = "none"
    cfg.MODEL.BPD_HEAD.LOSS_REDUCTION = "mean"
    cfg.MODEL.BPD_HEAD.LOSS_WEIGHT = 1.0
    mapper = GOSSDatasetMapper(cfg, is_train=True)
    batch = [mapper(r) for r in records]
    model = build_model(cfg).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    history = []
    for _ in range(60):
        losses = model(batch)
        history.append({k: v.item() for k, v in losses.items()})
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    assert set(history[0]) == {"loss_sem_seg", "loss_bpd", "loss_contrastive"}
    for key in history[0]:
        first = np.mean([h[key] for h in history[:3]])
        last = np.mean([h[key] for h in history[-3:]])
        assert last < 0.6 * first, f"{key}: {first:.4f} -> {last:.4f}"
