"""Fusion of identified semantics and unknown clusters into the GOSS output.

:class:`GOSSFusion` is the configured post-processing of the model and the calibration tool (the
identification itself is a :class:`goss.modeling.identification.UnknownIdentifier`). The output
ids are described in ``docs/formats.md``.
"""

import logging

import torch
import torch.nn.functional as F

from .clustering import build_unknown_clusterer, reads_unknown_score
from .identification import UnknownIdentifier

__all__ = [
    "GOSSFusion",
    "get_goss_segmentation",
    "goss_image_outputs",
    "resize_map",
    "upsample_image",
    "upsample_maps",
    "VOID",
]

VOID = -1


def _warn_too_many_clusters(count, label_divisor):
    logging.getLogger(__name__).warning(
        "%d unknown clusters in one image, but panoptic ids allow %d (LABEL_DIVISOR - 1): the "
        "smallest became void; raise MODEL.GOSS.UNKNOWN_MIN_AREA or MODEL.GOSS.LABEL_DIVISOR",
        count,
        label_divisor - 1,
    )


def get_goss_segmentation(
    sem_labels, clusters, num_known, label_divisor=1000, known_min_area=0, unknown_min_area=0
):
    """
    Args:
        sem_labels (Tensor): int ``[H, W]``, known ``0..N-1``, unknown ``N``.
        clusters (Tensor or None): int ``[H, W]`` whole-image partition (e.g. Super-BPD labels);
            unknown pixels sharing a cluster label form one unknown segment. None puts all
            unknown pixels into one segment.
        num_known (int): N.
        label_divisor (int): panoptic id = category * label_divisor + cluster.
        known_min_area (int): known-class segments smaller than this become void.
        unknown_min_area (int): unknown segments smaller than this become void; beyond
            ``label_divisor - 1`` segments the smallest become void too (with a WARNING; among
            equal areas the later in raster order of first pixel).
    Returns:
        Tensor: int32 ``[H, W]``: ``c * label_divisor`` for known class c, ``N * label_divisor + k``
        (k = 1, 2, ... in raster order of first pixel) for unknown segments, ``VOID`` elsewhere.
    """
    labels = sem_labels.long().flatten()
    hw = labels.numel()
    known_areas = torch.bincount(labels, minlength=num_known + 1)[: num_known + 1]
    # one lookup: known class c -> c * label_divisor if its area is large enough, else void
    table = torch.arange(num_known + 1, device=labels.device, dtype=torch.int32) * label_divisor
    table[known_areas < max(known_min_area, 1)] = VOID
    table[num_known] = VOID
    out = table.index_select(0, labels)
    if int(known_areas[num_known]) == 0:
        return out.view(sem_labels.shape)
    pixels = (labels == num_known).nonzero()[:, 0]  # the unknown pixels in raster order
    if clusters is None:
        ids = torch.zeros_like(pixels)
    else:
        ids = _dense_ids(clusters.flatten().index_select(0, pixels).long(), hw)
    out.index_copy_(
        0, pixels, _unknown_segment_ids(ids, num_known, label_divisor, unknown_min_area)
    )
    return out.view(sem_labels.shape)


def _unknown_segment_ids(ids, num_known, label_divisor, unknown_min_area):
    """
    The panoptic ids of the unknown pixels (:func:`get_goss_segmentation`) from their cluster ids
    ``ids`` (int64 ``[n]``, in ``0..m-1``, the pixels in raster order): int32 ``[n]``. The
    per-cluster work is on runs of equal ids, which are few for a partition into regions; no sort.
    """
    run_ids, pixel_run, run_len = torch.unique_consecutive(
        ids, return_inverse=True, return_counts=True
    )
    run_start = run_len.cumsum(0) - run_len  # the run's first pixel
    n, m = ids.numel(), int(run_ids.max()) + 1
    areas = torch.zeros(m, dtype=torch.long, device=ids.device).scatter_add_(0, run_ids, run_len)
    first = torch.full_like(areas, n).scatter_reduce_(0, run_ids, run_start, "amin")
    keep = areas >= max(unknown_min_area, 1)
    if int(keep.sum()) >= label_divisor:
        # ids N * label_divisor + k need k < label_divisor: keep the largest clusters (ties in
        # raster order of their first pixel)
        present = (areas > 0).nonzero()[:, 0]
        present = present[first[present].argsort()]
        kept_areas = torch.where(keep[present], areas[present], 0)
        largest = present[torch.argsort(kept_areas, descending=True, stable=True)]
        _warn_too_many_clusters(int(keep.sum()), label_divisor)
        keep = torch.zeros_like(keep)
        keep[largest[: label_divisor - 1]] = True
    # k = 1, 2, ... over the kept clusters in the raster order of their first pixel: the number
    # of kept clusters' first pixels up to a cluster's own (the first pixels of present clusters
    # are distinct; absent ones all write 0 at n)
    starts = torch.zeros(n + 1, dtype=torch.long, device=ids.device)
    starts.scatter_(0, first, keep.long())
    rank = starts.cumsum_(0).index_select(0, first)
    lut = torch.where(keep, num_known * label_divisor + rank, VOID).to(torch.int32)
    return lut.index_select(0, run_ids).index_select(0, pixel_run)


def _dense_ids(ids, bound):
    """``ids`` (int64 ``[n]``) as ids in ``0..m-1`` (``m <= bound``) with the same partition: as
    they are when they already lie in ``0..bound-1`` (e.g. a pixel index), else compacted."""
    lo, hi = torch.aminmax(ids)
    if lo < 0 or hi >= bound:
        ids = torch.unique(ids, return_inverse=True)[1]
    return ids


def resize_map(t, size):
    """
    Bilinear resize of one image's map ``[C, h, w]`` to ``size`` ``(H, W)``; a map already at
    that size is returned as it is (which is what the bilinear resize would give: at scale 1 it
    samples every pixel at its own centre).
    """
    size = tuple(int(v) for v in size)
    if tuple(t.shape[-2:]) == size:
        return t
    return F.interpolate(t[None], size=size, mode="bilinear", align_corners=False)[0]


def upsample_maps(logits, field, size):
    """
    Bilinear resize of one image's maps to its output size (:func:`resize_map`).

    Args:
        logits (Tensor): ``[C, h, w]``; field (Tensor): ``[2, h, w]``; size: ``(H, W)``.
    Returns:
        (Tensor, Tensor): ``[C, H, W]`` and ``[2, H, W]``.
    """
    return resize_map(logits, size), resize_map(field, size)


def upsample_image(image, size):
    """
    Bilinear resize of one input image ``[3, h, w]`` (any dtype, 0..255) to the output ``size``
    ``(H, W)``, as float ``[3, H, W]``: what a clusterer that reads the image gets.
    """
    size = tuple(int(v) for v in size)
    return F.interpolate(image[None].float(), size=size, mode="bilinear", align_corners=False)[0]


class GOSSFusion:
    """
    Clustering of the identified unknown pixels and fusion of one image:
    ``(logits, field, (labels, unknown_score)) -> GOSS outputs``, holding N, the clusterer, the
    panoptic label divisor, the min areas and the clustering branch.
    """

    def __init__(
        self,
        num_known,
        clusterer,
        label_divisor=1000,
        known_min_area=0,
        unknown_min_area=0,
        branch="bpd",
    ):
        """
        Args:
            num_known (int): N (label ``N`` of the identification is unknown).
            clusterer: a clusterer of ``UNKNOWN_CLUSTERER_REGISTRY``.
            label_divisor, known_min_area, unknown_min_area: see :func:`get_goss_segmentation`.
            branch (str): ``MODEL.GOSS.CLUSTERING_BRANCH``; ``bpd_field`` is returned for "bpd"
                only.
        """
        self.num_known = num_known
        self.clusterer = clusterer
        self.label_divisor = label_divisor
        self.known_min_area = known_min_area
        self.unknown_min_area = unknown_min_area
        self.branch = branch

    @classmethod
    def from_config(cls, cfg):
        """The post-processing ``cfg.MODEL.GOSS`` configures (its clusterer built anew)."""
        g = cfg.MODEL.GOSS
        return cls(
            g.NUM_KNOWN_CLASSES,
            build_unknown_clusterer(cfg),
            g.LABEL_DIVISOR,
            g.KNOWN_MIN_AREA,
            g.UNKNOWN_MIN_AREA,
            g.CLUSTERING_BRANCH,
        )

    @property
    def needs_image(self):
        """Whether the clusterer reads the input image (pass ``image=`` then)."""
        return getattr(self.clusterer, "source", None) == "image"

    def __call__(
        self, logits, field, identified, *, partition=None, probabilities=True, image=None
    ):
        """
        Args:
            logits (Tensor): ``[N or N+1, H, W]`` at output resolution.
            field (Tensor or None): the clustering branch's map at output resolution: the BPD
                field ``[2, H, W]`` (``branch`` "bpd") or the DFC response ``[q, H, W]``
                (``branch`` "dfc").
            identified (tuple): ``(labels [H, W], unknown_score [H, W])`` of an identifier.
            partition (Tensor or None): ``clusterer.partition(...)`` when already computed.
            probabilities (bool): whether to return ``sem_seg`` (a softmax over the logits).
            image (Tensor or None): ``[3, H, W]`` input image at output resolution, for a
                clusterer whose ``source`` is "image" (``felzenszwalb``).
        Returns:
            dict: see :func:`goss_image_outputs`.
        """
        labels, unknown_score = identified
        out = {"unknown_score": unknown_score}
        if probabilities:
            out["sem_seg"] = logits.softmax(dim=0)
        clusters, partition = self.cluster(
            labels, field, partition=partition, image=image, unknown_score=unknown_score
        )
        if partition is not None:
            out["clusters"] = partition
        out["panoptic_seg"] = (self.segmentation(labels, clusters), None)
        if field is not None and self.branch == "bpd":
            out["bpd_field"] = field
        return out

    def cluster(self, labels, field, *, partition=None, image=None, unknown_score=None):
        """
        The clusters of the unknown pixels of ``labels`` (``[H, W]``, unknown ``N``);
        ``unknown_score`` (``[H, W]``, the identifier's) for a clusterer that reads it
        (``seeded_components``).

        Returns:
            (Tensor or None, Tensor or None): the clusterer's output for the unknown mask (int
            ``[H, W]``, or None for one segment) and, for a clusterer with a whole-image partition,
            that partition (``partition`` itself when given), else None.
        """
        unknown = labels == self.num_known
        clusterer = self.clusterer
        if reads_unknown_score(clusterer):
            return clusterer(unknown, field, unknown_score=unknown_score), None
        if not hasattr(clusterer, "partition"):
            return clusterer(unknown, field), None
        if partition is None:
            partition = clusterer.partition(_partition_source(clusterer, field, image))
        return clusterer(unknown, field, partition=partition), partition

    def segmentation(self, labels, clusters):
        """The panoptic map of :func:`get_goss_segmentation` with this fusion's settings."""
        return get_goss_segmentation(
            labels,
            clusters,
            self.num_known,
            self.label_divisor,
            self.known_min_area,
            self.unknown_min_area,
        )


def goss_image_outputs(
    logits,
    field,
    *,
    num_known,
    identifier,
    threshold,
    beta,
    clusterer,
    label_divisor=1000,
    known_min_area=0,
    unknown_min_area=0,
    partition=None,
    identified=None,
    probabilities=True,
    image=None,
    branch="bpd",
):
    """
    The GOSS outputs of one image from its semantic logits and clustering map: identification,
    clustering of the unknown pixels, fusion; an :class:`UnknownIdentifier` and a
    :class:`GOSSFusion` of these settings, as :class:`goss.modeling.GOSS` and the calibration tool
    build from a config.

    Args:
        logits (Tensor): ``[N or N+1, H, W]`` at output resolution.
        field (Tensor or None): the clustering branch's map at output resolution: the BPD field
            ``[2, H, W]`` (``branch`` "bpd") or the DFC response ``[q, H, W]`` (``branch`` "dfc").
        identifier, threshold, beta: see :func:`goss.modeling.identification.identify_unknown`.
        clusterer: a clusterer of ``UNKNOWN_CLUSTERER_REGISTRY``.
        partition (Tensor or None): ``clusterer.partition(...)`` when already computed.
        identified (tuple or None): ``identify_unknown(logits, ...)`` when already computed.
        probabilities (bool): whether to return ``sem_seg`` (a softmax over the logits).
        image (Tensor or None): ``[3, H, W]`` input image at output resolution, for a clusterer
            whose ``source`` is "image" (``felzenszwalb``).
        branch (str): ``MODEL.GOSS.CLUSTERING_BRANCH``; ``bpd_field`` is returned for "bpd" only.
    Returns:
        dict: ``sem_seg`` ``[N(+1), H, W]`` probabilities (with ``probabilities``),
        ``panoptic_seg`` ``(int32 [H, W], None)``, ``unknown_score`` ``[H, W]``, ``bpd_field``
        ``[2, H, W]`` (a BPD field, if given) and, for a clusterer with a whole-image partition,
        ``clusters`` int32 ``[H, W]``.
    """
    if identified is None:
        identified = UnknownIdentifier(identifier, num_known, threshold, beta)(logits)
    fusion = GOSSFusion(
        num_known, clusterer, label_divisor, known_min_area, unknown_min_area, branch
    )
    return fusion(
        logits, field, identified, partition=partition, probabilities=probabilities, image=image
    )


def _partition_source(clusterer, field, image):
    """What ``clusterer.partition`` reads: the image or the clustering branch's map."""
    if getattr(clusterer, "source", None) != "image":
        return field
    if image is None:
        raise ValueError(f"the {clusterer.name} clusterer reads the image: pass image=")
    return image
