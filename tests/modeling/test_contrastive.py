"""The pixel contrastive loss and its projection head."""

import math

import torch

from goss.modeling.contrastive import PixelContrastiveLoss, ProjectionHead


def test_projection_head_unit_norm():
    emb = ProjectionHead(8, 4)(torch.randn(2, 8, 5, 5))
    assert emb.shape == (2, 4, 5, 5)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2, 5, 5), atol=1e-5)


def _two_class_labels():
    gt = torch.zeros(2, 8, 8, dtype=torch.long)
    gt[:, :, 4:] = 1
    return gt


def test_separated_embeddings_have_lower_loss():
    gt = _two_class_labels()
    loss = PixelContrastiveLoss(temperature=0.1, max_views=10, min_pixels=2)
    aligned = torch.zeros(2, 2, 8, 8)
    aligned[:, 0][gt == 0] = 1.0
    aligned[:, 1][gt == 1] = 1.0
    mixed = torch.nn.functional.normalize(torch.randn(2, 2, 8, 8), dim=1)
    torch.manual_seed(0)
    low = loss(aligned, gt, gt)
    high = loss(mixed, gt, gt)
    assert low < high
    # orthogonal class embeddings: s_ap = 1, s_an = 0, so each term is log(1 + n_neg e^-10)
    n_neg = 20  # at most 2 images x 10 views of the other class
    assert low.item() <= math.log(1 + n_neg * math.exp(-10)) + 1e-6


def test_ignored_pixels_and_single_class_give_zero_with_gradient():
    emb = torch.nn.functional.normalize(torch.randn(1, 4, 8, 8), dim=1).requires_grad_()
    gt = torch.full((1, 8, 8), 255)
    gt[0, :4] = 0
    out = PixelContrastiveLoss(min_pixels=2)(emb, gt, gt)
    assert out.item() == 0.0
    out.backward()
    assert emb.grad is not None


def test_hard_anchors_preferred():
    gt = _two_class_labels()
    pred = gt.clone()
    pred[:, 0, :4] = 1  # 4 hard pixels of class 0 per image
    loss = PixelContrastiveLoss(max_samples=8, max_views=4, min_pixels=2)
    emb = torch.arange(64.0).view(1, 1, 64).expand(2, 1, 64)
    feats, labels = loss._sample(emb.transpose(1, 2), gt.flatten(1), pred.flatten(1))
    # 2 images x 2 classes; n_view = min(8 // 4, 4) = 2: one hard + one easy for class 0
    assert len(labels) == 8
    class0 = feats[labels == 0].flatten()
    hard_ids = {0.0, 1.0, 2.0, 3.0}
    assert sum(v.item() in hard_ids for v in class0) == 2
