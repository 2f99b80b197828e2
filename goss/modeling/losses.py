"""
Losses of GOSS: the semantic pixel-weighted cross-entropy and the pixel contrastive loss (paper
Eq. 4, the supervised InfoNCE loss on the embeddings of
:class:`goss.modeling.projection_head.ProjectionHead`).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["PixelContrastiveLoss", "weighted_cross_entropy"]


def weighted_cross_entropy(logits, target, weight=None, ignore_label=255):
    """
    Cross-entropy times a per-pixel weight, averaged over the non-ignored pixels (the unweighted
    count is the denominator, as the reference's ``RegularCE``).

    Args:
        logits (Tensor): ``[B, C, H, W]``.
        target (Tensor): int64 ``[B, H, W]``; ``ignore_label`` pixels do not count.
        weight (Tensor or None): ``[B, H, W]`` pixel weights (None: all 1).
    Returns:
        Tensor: scalar.
    """
    loss = F.cross_entropy(logits, target, ignore_index=ignore_label, reduction="none")
    if weight is not None:
        loss = loss * weight
    valid = (target != ignore_label).sum().clamp(min=1)
    return loss.sum() / valid


class PixelContrastiveLoss(nn.Module):
    """
    Supervised pixel contrastive loss with semi-hard anchor sampling (Wang et al. 2021, as used
    by GOSS): per image and class, half of the anchors are "hard" (ground truth c, predicted
    otherwise) and half "easy" (predicted c), filled from the other group when one runs short.
    Positives of an anchor are the other anchors of its class from the whole batch, negatives all
    anchors of other classes. Ignored pixels (``ignore_label``) never take part.
    """

    def __init__(
        self, temperature=0.07, max_samples=1024, max_views=10, min_pixels=10, ignore_label=255
    ):
        super().__init__()
        self.temperature = temperature
        self.max_samples = max_samples
        self.max_views = max_views
        self.min_pixels = min_pixels
        self.ignore_label = ignore_label

    def _sample(self, emb, gt, pred):
        """
        Sample anchors for the whole batch at once (no loop over images or classes).

        Args:
            emb (Tensor): ``[B, P, D]`` embeddings of the P pixels of each image.
            gt, pred (Tensor): int64 ``[B, P]`` ground-truth and predicted train ids.
        Returns:
            tuple: sampled embeddings ``[M, D]`` and their labels ``[M]`` (M may be 0), grouped
            by image and class, hard anchors before easy ones.
        """
        B, P = gt.shape
        valid = gt != self.ignore_label
        num_labels = int(gt[valid].max()) + 1 if valid.any() else 1
        # one group per (image, class): its key; pixels of the groups that take part
        pair = torch.arange(B, device=gt.device)[:, None] * num_labels + gt.clamp(
            max=num_labels - 1
        )
        pair = pair.flatten()
        valid = valid.flatten()
        pixels = torch.bincount(pair[valid], minlength=B * num_labels)
        taking_part = pixels > self.min_pixels
        total = int(taking_part.sum())
        if total == 0:
            return emb.new_zeros((0, emb.shape[-1])), gt.new_zeros((0,))
        n_view = max(1, min(self.max_samples // total, self.max_views))
        keep = valid & taking_part[pair]
        idx = torch.nonzero(keep).squeeze(1)  # flat pixel indices of the candidates
        pair, easy = pair[idx], (pred.flatten()[idx] == gt.flatten()[idx]).long()
        # per group: available hard / easy anchors, and how many of each are taken
        n_easy_avail = torch.bincount(pair[easy == 1], minlength=B * num_labels)
        n_hard_avail = pixels - n_easy_avail
        n_hard = torch.minimum(n_hard_avail, (n_view - n_easy_avail).clamp(min=n_view // 2))
        n_easy = torch.minimum(n_easy_avail, n_view - n_hard)
        quota = torch.stack([n_hard, n_easy], dim=1).flatten()  # [group * 2 + easy]
        # a random order within each (group, hard/easy) subset: sort by subset, then at random
        subset = pair * 2 + easy
        order = torch.argsort(subset.double() + torch.rand(len(subset), device=gt.device))
        subset = subset[order]
        counts = torch.bincount(subset, minlength=len(quota))
        first = torch.cumsum(counts, 0) - counts
        rank = torch.arange(len(subset), device=gt.device) - first[subset]
        chosen = idx[order[rank < quota[subset]]]
        return emb.reshape(B * P, -1)[chosen], gt.flatten()[chosen]

    def forward(self, embeddings, gt, pred):
        """
        Args:
            embeddings (Tensor): ``[B, D, h, w]`` unit-norm pixel embeddings.
            gt (Tensor): ``[B, H, W]`` ground-truth train ids (``ignore_label`` ignored).
            pred (Tensor): ``[B, H, W]`` predicted train ids.
        Returns:
            Tensor: scalar loss (0 with a zero gradient path when fewer than two classes are
            sampled, so that every parameter still receives a gradient).
        """
        h, w = embeddings.shape[-2:]
        gt = F.interpolate(gt[:, None].float(), size=(h, w), mode="nearest")[:, 0].long()
        pred = F.interpolate(pred[:, None].float(), size=(h, w), mode="nearest")[:, 0].long()
        emb = embeddings.flatten(2).transpose(1, 2)  # [B, h*w, D]
        feats, labels = self._sample(emb, gt.flatten(1), pred.flatten(1))
        if len(torch.unique(labels)) < 2:
            return embeddings.sum() * 0.0
        logits = feats @ feats.T / self.temperature
        logits = logits - logits.max(dim=1, keepdim=True).values.detach()
        same = labels[:, None] == labels[None, :]
        self_mask = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        positives = same & ~self_mask
        exp = torch.exp(logits)
        neg_sum = (exp * (~same)).sum(dim=1, keepdim=True)
        log_prob = logits - torch.log(exp + neg_sum)
        n_pos = positives.sum(dim=1)
        valid = n_pos > 0
        if not valid.any():
            return embeddings.sum() * 0.0
        mean_log_prob = (log_prob * positives).sum(dim=1)[valid] / n_pos[valid]
        return -mean_log_prob.mean()
