"""The pixel contrastive loss and its projection head."""

import math

import torch

from goss.modeling.losses import PixelContrastiveLoss
from goss.modeling.projection_head import ProjectionHead


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


def _loop_sample_counts(loss, gt, pred):
    """The sampler's quotas written as the plain loop over images and classes (the reference)."""
    classes = [
        [
            c
            for c in torch.unique(g).tolist()
            if c != loss.ignore_label and (g == c).sum() > loss.min_pixels
        ]
        for g in gt
    ]
    total = sum(len(c) for c in classes)
    n_view = max(1, min(loss.max_samples // max(total, 1), loss.max_views))
    counts = {}
    for b, cs in enumerate(classes):
        for c in cs:
            n_hard_avail = int(((gt[b] == c) & (pred[b] != c)).sum())
            n_easy_avail = int(((gt[b] == c) & (pred[b] == c)).sum())
            n_hard = min(n_hard_avail, max(n_view // 2, n_view - n_easy_avail))
            counts[(b, c, True)] = n_hard
            counts[(b, c, False)] = min(n_easy_avail, n_view - n_hard)
    return counts


def test_batched_sampler_matches_the_per_image_per_class_quotas():
    g = torch.Generator().manual_seed(0)
    for max_samples, max_views in [(1024, 10), (16, 10), (8, 3)]:
        loss = PixelContrastiveLoss(max_samples=max_samples, max_views=max_views, min_pixels=3)
        gt = torch.randint(0, 5, (3, 60), generator=g)
        gt[gt == 4] = 255
        gt[2] = 255  # an image without labelled pixels
        gt[1, :57] = 0  # classes 1..3 of image 1 have too few pixels
        pred = torch.where(
            torch.rand(3, 60, generator=g) < 0.6, gt, torch.randint(0, 4, (3, 60), generator=g)
        )
        emb = torch.arange(180.0).view(3, 60, 1)  # each feature is its flat pixel index
        feats, labels = loss._sample(emb, gt, pred)
        flat = feats.flatten().long()
        assert len(set(flat.tolist())) == len(flat)  # no pixel twice
        assert torch.equal(gt.flatten()[flat], labels)
        got = {}
        for i in flat.tolist():
            b, p = divmod(i, 60)
            key = (b, int(gt[b, p]), bool(pred[b, p] != gt[b, p]))
            got[key] = got.get(key, 0) + 1
        expected = {k: v for k, v in _loop_sample_counts(loss, gt, pred).items() if v}
        assert got == expected
