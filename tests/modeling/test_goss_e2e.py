"""The GOSS meta-architecture: train and inference steps on tiny inputs."""

import numpy as np
import pytest
import torch

from detectron2.modeling import build_model
from goss.data import GOSSTargetGenerator
from tests.common import small_goss_cfg


def _toy_batch(num_known, train_mode, n=2, size=(64, 96), seed=0):
    """Images with a few flat rectangles; targets from the real target generator."""
    rng = np.random.RandomState(seed)
    gen = GOSSTargetGenerator(num_known, train_mode)
    batch = []
    for _ in range(n):
        sem = np.full(size, 0, dtype=np.int64)
        for c in range(1, num_known):
            y, x = rng.randint(0, size[0] - 16), rng.randint(0, size[1] - 16)
            sem[y : y + 16, x : x + 16] = c
        sem[:4, :4] = 255  # void
        image = (sem[None].repeat(3, 0) * 40 % 256).astype(np.float32)
        record = {"image": torch.as_tensor(image), "height": size[0], "width": size[1]}
        record.update(gen(sem))
        batch.append(record)
    return batch


@pytest.mark.parametrize("backbone", ["mobilenet_v2", "resnet50"])
@pytest.mark.parametrize("identifier", ["msp", "max_logit", "n_plus_one"])
def test_train_and_inference_step(backbone, identifier):
    torch.manual_seed(0)
    mode = "n_plus_one" if identifier == "n_plus_one" else "n"
    cfg = small_goss_cfg(backbone, num_known=3, train_mode=mode, identifier=identifier)
    model = build_model(cfg)
    batch = _toy_batch(3, mode)
    model.train()
    losses = model(batch)
    assert set(losses) == {"loss_sem_seg", "loss_bpd", "loss_contrastive"}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)

    model.eval()
    with torch.no_grad():
        out = model([{"image": batch[0]["image"], "height": 32, "width": 48}])[0]
    assert set(out) == {"sem_seg", "panoptic_seg", "unknown_score", "clusters", "bpd_field"}
    assert out["sem_seg"].shape == (3 + (mode == "n_plus_one"), 32, 48)
    pan = out["panoptic_seg"][0]
    assert pan.dtype == torch.int32 and pan.shape == (32, 48)
    cats = pan[pan >= 0] // 1000
    assert ((cats >= 0) & (cats <= 3)).all()
    assert out["unknown_score"].shape == (32, 48)
    assert out["clusters"].shape == (32, 48)
    assert out["bpd_field"].shape == (2, 32, 48)


def test_n_model_without_contrastive_has_two_losses():
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    model = build_model(cfg).train()
    assert set(model(_toy_batch(3, "n"))) == {"loss_sem_seg", "loss_bpd"}


def test_unknown_clustering_none_gives_one_unknown_segment():
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.MSP_THRESHOLD = 1.1  # every pixel unknown
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "none"
    model = build_model(cfg).eval()
    with torch.no_grad():
        pan = model(_toy_batch(3, "n", n=1))[0]["panoptic_seg"][0]
    assert torch.unique(pan).tolist() == [3001]
