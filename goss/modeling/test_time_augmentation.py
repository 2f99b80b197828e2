"""
Test-time augmentation of GOSS (``TEST.AUG``): the network runs on every image at several
sizes and mirrored, and the logits and clustering maps, brought back to the input's frame, are
averaged before identification and clustering.
"""

import torch.nn.functional as F

__all__ = ["GOSSTestTimeAugmentation"]


class GOSSTestTimeAugmentation:
    """
    Detectron2's ``TEST.AUG`` keys, read as :class:`detectron2.data.DatasetMapperTTA` reads them:
    each size of ``min_sizes`` resizes the image's shorter side to it (the longer side at most
    ``max_size``), and ``flip`` adds the mirror image of each. The maps of every view are resized
    to the image's own size (bilinear), un-mirrored and averaged; in a mirrored BPD field the
    column component also changes sign.
    """

    def __init__(self, min_sizes, max_size, flip, size_divisibility=1, field_is_bpd=True):
        """
        Args:
            min_sizes (list[int]): shorter-side sizes of the views.
            max_size (int): the longest a view's longer side may be.
            flip (bool): add the horizontal mirror of every view.
            size_divisibility (int): views are zero-padded to a multiple of this.
            field_is_bpd (bool): the clustering map is a BPD field (``[2, H, W]``, channel 1 =
                delta-col, negated when mirrored); False for a DFC response (no sign).
        """
        sizes = [int(s) for s in min_sizes]
        if not sizes or min(sizes) < 1:
            raise ValueError(f"TEST.AUG.MIN_SIZES must be positive sizes, got {min_sizes}")
        if max_size < 1:
            raise ValueError(f"TEST.AUG.MAX_SIZE must be positive, got {max_size}")
        self.min_sizes = sizes
        self.max_size = int(max_size)
        self.flip = bool(flip)
        self.size_divisibility = max(int(size_divisibility), 1)
        self.field_is_bpd = field_is_bpd

    @classmethod
    def from_config(cls, cfg, size_divisibility):
        """None when ``TEST.AUG.ENABLED`` is off."""
        aug = cfg.TEST.AUG
        if not aug.ENABLED:
            return None
        return cls(
            aug.MIN_SIZES,
            aug.MAX_SIZE,
            aug.FLIP,
            size_divisibility,
            cfg.MODEL.GOSS.CLUSTERING_BRANCH == "bpd",
        )

    def view_size(self, height, width, min_size):
        """The ``(h, w)`` of a view: shorter side ``min_size``, longer side <= ``max_size``."""
        scale = min(min_size / min(height, width), self.max_size / max(height, width))
        return max(int(round(height * scale)), 1), max(int(round(width * scale)), 1)

    def __call__(self, predict, image):
        """
        Args:
            predict (callable): a padded batch ``[1, 3, H', W']`` -> ``(logits [1, C, H', W'],
                field [1, C', H', W'])`` at the batch's size.
            image (Tensor): one normalised image ``[3, h, w]``.
        Returns:
            (Tensor, Tensor): logits ``[C, h, w]`` and field ``[C', h, w]``, averaged over the
            views.
        """
        h, w = image.shape[-2:]
        logits_sum = field_sum = None
        views = 0
        for min_size in self.min_sizes:
            vh, vw = self.view_size(h, w, min_size)
            view = image[None]
            if (vh, vw) != (h, w):
                view = F.interpolate(view, size=(vh, vw), mode="bilinear", align_corners=False)
            for mirrored in (False, True) if self.flip else (False,):
                x = view.flip(-1) if mirrored else view
                d = self.size_divisibility
                ph, pw = -(-vh // d) * d, -(-vw // d) * d
                x = F.pad(x, (0, pw - vw, 0, ph - vh))
                logits, field = predict(x)
                logits, field = (_back(t[..., :vh, :vw], (h, w), mirrored) for t in (logits, field))
                if mirrored and self.field_is_bpd:
                    field = field * field.new_tensor([1.0, -1.0]).view(2, 1, 1)
                logits_sum = logits if logits_sum is None else logits_sum + logits
                field_sum = field if field_sum is None else field_sum + field
                views += 1
        return logits_sum / views, field_sum / views


def _back(t, size, mirrored):
    """``[1, C, h', w']`` -> ``[C, h, w]`` float32 in the image's frame."""
    t = t.float()
    if tuple(t.shape[-2:]) != tuple(size):
        t = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
    if mirrored:
        t = t.flip(-1)
    return t[0]
