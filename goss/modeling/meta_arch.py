"""The GOSS SegmenTor (GST) meta-architecture (paper §4, Fig. 3)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from detectron2.config import configurable
from detectron2.modeling import META_ARCH_REGISTRY, build_backbone, build_sem_seg_head
from detectron2.structures import ImageList

from .bpd_head import build_bpd_head
from .bpd_loss import bpd_loss
from .dfc_head import build_dfc_head
from .dfc_loss import dfc_losses
from .dml import PrototypeClassifier, dml_variance_loss
from .identification import UnknownIdentifier
from .losses import PixelContrastiveLoss, weighted_cross_entropy
from .postprocessing import GOSSFusion, upsample_image, upsample_maps
from .projection_head import ProjectionHead
from .test_time_augmentation import GOSSTestTimeAugmentation

__all__ = ["GOSS"]

# loss -> its weight when ``loss_weights`` does not give one (None: it must give one)
_LOSS_WEIGHTS = {
    "sem_seg": None,
    "bpd": None,
    "contrastive": None,
    "dfc": 1.0,
    "dfc_continuity": 5.0,  # DFC's mu, on top of the "dfc" weight
    "dml_variance": 0.01,  # DMLNet's lambda_VL
}


@META_ARCH_REGISTRY.register()
class GOSS(nn.Module):
    """
    GOSS SegmenTor: a shared backbone, a semantic branch (DeepLabV3+, N or N+1 outputs) that
    classifies known pixels and identifies unknown ones, and a clustering branch (BPD head +
    Super-BPD post-processing) that groups the unknown pixels; optionally a projection head
    trained with the pixel contrastive loss.

    Variants: with ``MODEL.DML.ENABLED`` the semantic head outputs embeddings and a
    :class:`PrototypeClassifier` (``dml_head``) makes the logits ``-gamma * distance^2`` (DMLNet);
    with ``MODEL.GOSS.CLUSTERING_BRANCH "dfc"`` the clustering branch is a DFC head (``dfc_head``)
    whose response takes the place of the field everywhere.

    Training inputs (per image, from :class:`goss.data.GOSSDatasetMapper`): ``image``
    ``[3, H, W]``, ``sem_seg`` ``[H, W]`` (train ids, 255 ignored), ``sem_seg_weights`` ``[H, W]``,
    ``bpd_field`` ``[2, H, W]``, ``bpd_weights`` ``[H, W]``.
    """

    @configurable
    def __init__(
        self,
        *,
        backbone,
        sem_seg_head,
        bpd_head,
        projection_head,
        dfc_head=None,
        dml_head=None,
        contrastive_loss,
        contrastive_feature,
        identifier,
        fusion,
        loss_weights,
        bpd_loss_reduction,
        pixel_mean,
        pixel_std,
        size_divisibility,
        ignore_label=255,
        channels_last=False,
        test_time_augmentation=None,
    ):
        """
        NOTE: this interface is experimental.

        Args:
            backbone, sem_seg_head, bpd_head: the shared backbone and the two branches
                (``bpd_head`` None in a DFC model).
            projection_head (nn.Module or None): embeddings for the contrastive loss.
            dfc_head (nn.Module or None): the DFC clustering branch (instead of ``bpd_head``).
            dml_head (PrototypeClassifier or None): distance logits from the semantic head's
                embeddings (a DML model).
            contrastive_loss (nn.Module or None): :class:`PixelContrastiveLoss`.
            contrastive_feature (str): backbone feature the projection head reads.
            identifier (UnknownIdentifier): logits ``[N(+1), H, W]`` -> ``(labels [H, W],
                unknown_score [H, W])``, with its threshold and beta.
            fusion (GOSSFusion): clustering of the unknown pixels and fusion into the outputs
                (clusterer, label divisor, min areas); its ``branch`` must be this model's.
            loss_weights (dict[str, float]): ``sem_seg``, ``bpd``, ``contrastive`` and optionally
                ``dfc`` (1), ``dfc_continuity`` (DFC's mu, 5, on top of ``dfc``) and
                ``dml_variance`` (DMLNet's lambda_VL, 0.01).
            bpd_loss_reduction (str): the BPD loss reduction.
            pixel_mean, pixel_std (list[float]): input normalisation.
            size_divisibility (int): inputs are padded to a multiple of this.
            channels_last (bool): keep the weights and run the network in the channels-last
                memory format (faster convolutions with oneDNN on the CPU; same results).
            test_time_augmentation (GOSSTestTimeAugmentation or None): in inference, average the
                maps of several views of each image (``TEST.AUG``).
        """
        super().__init__()
        if (bpd_head is None) == (dfc_head is None):
            raise ValueError("a GOSS model needs exactly one clustering branch (BPD or DFC head)")
        self.backbone = backbone
        self.sem_seg_head = sem_seg_head
        self.bpd_head = bpd_head
        self.projection_head = projection_head
        self.contrastive_loss = contrastive_loss
        self.dfc_head = dfc_head
        self.dml_head = dml_head
        self.clustering_branch = "bpd" if dfc_head is None else "dfc"
        if fusion.branch != self.clustering_branch:
            raise ValueError(
                f"the fusion is for the {fusion.branch!r} clustering branch, the model has "
                f"{self.clustering_branch!r}"
            )
        self.identifier = identifier
        self.fusion = fusion
        self.loss_weights = _loss_weights(loss_weights)
        self.bpd_loss_reduction = bpd_loss_reduction
        self.contrastive_feature = contrastive_feature
        self.size_divisibility = size_divisibility
        self.ignore_label = ignore_label
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(-1, 1, 1), False)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)
        self.test_time_augmentation = test_time_augmentation

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        shapes = backbone.output_shape()
        g, c = cfg.MODEL.GOSS, cfg.MODEL.CONTRASTIVE
        projection_head = contrastive_loss = None
        if c.ENABLED:
            projection_head = ProjectionHead(shapes[c.IN_FEATURE].channels, c.PROJ_DIM)
            contrastive_loss = PixelContrastiveLoss(
                c.TEMPERATURE,
                c.MAX_SAMPLES,
                c.MAX_VIEWS,
                c.MIN_PIXELS,
                cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            )
        size_div = g.SIZE_DIVISIBILITY if g.SIZE_DIVISIBILITY > 0 else backbone.size_divisibility
        identifier = UnknownIdentifier.from_config(cfg)
        if g.CLUSTERING_BRANCH not in ("bpd", "dfc"):
            raise ValueError(
                f"MODEL.GOSS.CLUSTERING_BRANCH must be 'bpd' or 'dfc', got {g.CLUSTERING_BRANCH!r}"
            )
        dfc = g.CLUSTERING_BRANCH == "dfc"
        dml = cfg.MODEL.DML
        return {
            "backbone": backbone,
            "sem_seg_head": build_sem_seg_head(cfg, shapes),
            "bpd_head": None if dfc else build_bpd_head(cfg, shapes),
            "dfc_head": build_dfc_head(cfg, shapes) if dfc else None,
            "dml_head": (
                PrototypeClassifier(g.NUM_KNOWN_CLASSES, dml.EMBED_DIM, dml.GAMMA)
                if dml.ENABLED
                else None
            ),
            "projection_head": projection_head,
            "contrastive_loss": contrastive_loss,
            "contrastive_feature": c.IN_FEATURE,
            "identifier": identifier,
            "fusion": GOSSFusion.from_config(cfg),
            "loss_weights": {
                "sem_seg": g.SEM_SEG_LOSS_WEIGHT,
                "bpd": cfg.MODEL.BPD_HEAD.LOSS_WEIGHT,
                "contrastive": c.LOSS_WEIGHT,
                "dfc": cfg.MODEL.DFC_HEAD.LOSS_WEIGHT,
                "dfc_continuity": cfg.MODEL.DFC_HEAD.CONTINUITY_WEIGHT,
                "dml_variance": dml.VARIANCE_LOSS_WEIGHT,
            },
            "bpd_loss_reduction": cfg.MODEL.BPD_HEAD.LOSS_REDUCTION,
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
            "size_divisibility": max(size_div, 1),
            "ignore_label": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "channels_last": g.CHANNELS_LAST,
            "test_time_augmentation": GOSSTestTimeAugmentation.from_config(cfg, max(size_div, 1)),
        }

    @property
    def device(self):
        return self.pixel_mean.device

    @property
    def clusterer(self):
        """The fusion's clusterer of the identified unknown pixels (may be replaced)."""
        return self.fusion.clusterer

    @clusterer.setter
    def clusterer(self, clusterer):
        self.fusion.clusterer = clusterer

    def _stack(self, batched_inputs, key, pad_value):
        return ImageList.from_tensors(
            [x[key].to(self.device) for x in batched_inputs], self.size_divisibility, pad_value
        ).tensor

    def forward(self, batched_inputs):
        """
        Args:
            batched_inputs (list[dict]): Detectron2 inputs (see the class docstring).
        Returns:
            In training, dict of losses ``loss_sem_seg``, ``loss_bpd`` (DFC model: ``loss_dfc_sim``
            and ``loss_dfc_con`` instead), ``loss_contrastive`` when enabled and ``loss_dml_var``
            in a DML model (whose ``loss_sem_seg`` is DMLNet's distance-based cross-entropy).
            In inference, list[dict], one per image, at its ``height`` x ``width``:
            ``sem_seg`` ``[N(+1), H, W]`` probabilities, ``panoptic_seg`` ``(int32 [H, W], None)``
            (``category * label_divisor + cluster``, void -1), ``unknown_score`` ``[H, W]`` and
            ``clusters`` int32 ``[H, W]`` (the whole-image partition of a clusterer that makes one)
            and ``bpd_field`` ``[2, H, W]`` (BPD models).
        """
        features, logits, field, raw_field, image_sizes = self._predict(batched_inputs)
        if self.training:
            return self.losses(batched_inputs, features, logits, field, raw_field, image_sizes)
        return self.inference(batched_inputs, image_sizes, logits, field)

    def _predict(self, batched_inputs):
        """
        Backbone features, logits ``[B, N(+1), Hp, Wp]`` and clustering map ``field`` (BPD field
        ``[B, 2, Hp, Wp]`` or DFC response ``[B, q, Hp, Wp]``) at the padded input size, the
        clustering head's own output at its stride, and the unpadded image sizes. With test-time
        augmentation (in inference) the maps are the views' average, and the features and the
        head's output are None.
        """
        images = [
            (x["image"].to(self.device) - self.pixel_mean) / self.pixel_std for x in batched_inputs
        ]
        images = ImageList.from_tensors(images, self.size_divisibility)
        if self.test_time_augmentation is not None and not self.training:
            logits, field = self._predict_augmented(images)
            return None, logits, field, None, images.image_sizes
        features, logits, field, raw_field = self._network(images.tensor)
        return features, logits, field, raw_field, images.image_sizes

    def _network(self, tensor):
        """
        Features, logits and clustering map (both at the size of ``tensor`` ``[B, 3, H, W]``)
        and the clustering head's own output.
        """
        features = self.backbone(tensor.contiguous(memory_format=self.memory_format))
        size = tensor.shape[-2:]
        logits = F.interpolate(
            self.sem_seg_head(features), size=size, mode="bilinear", align_corners=False
        )
        if self.dml_head is not None:  # embeddings at full size, then their distance logits
            with torch.autocast(self.device.type, enabled=False):  # float32 distances
                logits = self.dml_head(logits.float())
        head = self.bpd_head if self.dfc_head is None else self.dfc_head
        raw_field = head(features)
        field = F.interpolate(raw_field, size=size, mode="bilinear", align_corners=False)
        if not self.training:  # per-image post-processing reads channel planes: ~2x faster
            logits, field = logits.contiguous(), field.contiguous()
        return features, logits, field, raw_field

    def _predict_augmented(self, images):
        """The test-time-augmented logits and map of every image, in a padded batch."""

        def predict(x):
            return self._network(x)[1:3]

        maps = [
            self.test_time_augmentation(predict, images.tensor[i, :, :h, :w])
            for i, (h, w) in enumerate(images.image_sizes)
        ]
        size = images.tensor.shape[-2:]
        logits, field = (
            torch.stack(
                [
                    F.pad(m[k], (0, size[1] - m[k].shape[-1], 0, size[0] - m[k].shape[-2]))
                    for m in maps
                ]
            )
            for k in (0, 1)
        )
        return logits.contiguous(), field.contiguous()

    @torch.no_grad()
    def predict_maps(self, batched_inputs):
        """
        The raw per-image maps that :meth:`postprocess` turns into outputs, for tools that try
        many post-processing settings on one forward pass (``tools/calibrate_goss.py``).

        Returns:
            list[tuple]: per image ``(logits [N(+1), h, w], field [C, h, w], (height, width))``
            at the network input size ``h x w`` (padding removed), ``field`` the clustering map
            (BPD field, C = 2, or DFC response, C = q); :func:`upsample_maps` brings them to the
            output size exactly as inference does.
        """
        _, logits, field, _, image_sizes = self._predict(batched_inputs)
        return [
            (lg[:, :h, :w], fd[:, :h, :w], (x.get("height", h), x.get("width", w)))
            for x, (h, w), lg, fd in zip(batched_inputs, image_sizes, logits, field)
        ]

    def losses(self, batched_inputs, features, logits, field, raw_field, image_sizes):
        """
        Training losses; see :meth:`forward`. Under autocast (``SOLVER.AMP.ENABLED``) the network
        runs in lower precision, but the losses are computed in float32 from float32 copies of
        its outputs.
        """
        emb = None
        if self.contrastive_loss is not None:
            emb = self.projection_head(features[self.contrastive_feature])
        with torch.autocast(self.device.type, enabled=False):
            logits, field, raw_field = logits.float(), field.float(), raw_field.float()
            return self._losses_fp32(batched_inputs, logits, field, raw_field, emb, image_sizes)

    def _losses_fp32(self, batched_inputs, logits, field, raw_field, emb, image_sizes):
        lw = self.loss_weights
        sem = self._stack(batched_inputs, "sem_seg", self.ignore_label).long()
        sem_w = self._stack(batched_inputs, "sem_seg_weights", 0.0)
        losses = {
            "loss_sem_seg": lw["sem_seg"]
            * weighted_cross_entropy(logits, sem, sem_w, self.ignore_label),
        }
        if self.dfc_head is None:
            bpd_t = self._stack(batched_inputs, "bpd_field", 0.0)
            bpd_w = self._stack(batched_inputs, "bpd_weights", 0.0)
            losses["loss_bpd"] = lw["bpd"] * bpd_loss(
                field, bpd_t, bpd_w, reduction=self.bpd_loss_reduction
            )
        else:
            sim, con = dfc_losses(
                raw_field, self._valid_at(raw_field, image_sizes, field.shape[-2:])
            )
            losses["loss_dfc_sim"] = lw["dfc"] * sim
            losses["loss_dfc_con"] = lw["dfc"] * lw["dfc_continuity"] * con
        if self.dml_head is not None:
            losses["loss_dml_var"] = lw["dml_variance"] * dml_variance_loss(
                logits, sem, self.dml_head.gamma, self.ignore_label
            )
        if emb is not None:
            pred = logits.detach().argmax(dim=1)
            losses["loss_contrastive"] = lw["contrastive"] * self.contrastive_loss(
                emb.float(), sem, pred
            )
        return losses

    @staticmethod
    def _valid_at(raw, image_sizes, padded_size):
        """
        bool ``[B, h, w]``: the pixels of ``raw`` ``[B, C, h, w]`` (a head's output for inputs
        padded to ``padded_size``) that lie on the unpadded images.
        """
        valid = torch.zeros(raw.shape[0], *raw.shape[-2:], dtype=torch.bool, device=raw.device)
        sh, sw = raw.shape[-2] / padded_size[0], raw.shape[-1] / padded_size[1]
        for i, (h, w) in enumerate(image_sizes):
            valid[i, : max(1, math.ceil(h * sh)), : max(1, math.ceil(w * sw))] = True
        return valid

    @torch.no_grad()
    def inference(self, batched_inputs, image_sizes, logits, field):
        """Per-image GOSS outputs; see :meth:`forward`."""
        results = []
        needs_image = self.fusion.needs_image
        for x, (h, w), lg, fd in zip(batched_inputs, image_sizes, logits, field):
            size = (x.get("height", h), x.get("width", w))
            image = upsample_image(x["image"].to(self.device), size) if needs_image else None
            maps = upsample_maps(lg[:, :h, :w], fd[:, :h, :w], size)
            results.append(self.postprocess(*maps, image=image))
        return results

    def postprocess(self, logits, field, image=None):
        """
        Identification (:attr:`identifier`), clustering and fusion (:attr:`fusion`) of one image,
        as :func:`goss.modeling.postprocessing.goss_image_outputs` with this model's settings.

        Args:
            logits (Tensor): ``[N(+1), H, W]`` at output resolution.
            field (Tensor): ``[2, H, W]`` BPD field (``[q, H, W]`` DFC response) at output
                resolution.
            image (Tensor or None): ``[3, H, W]`` input image at output resolution (read by a
                clusterer whose ``source`` is "image").
        """
        return self.fusion(logits, field, self.identifier(logits), image=image)


def _loss_weights(loss_weights):
    """``loss_weights`` completed with the defaults of :data:`_LOSS_WEIGHTS` (checked)."""
    unknown = set(loss_weights) - set(_LOSS_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown loss weights {sorted(unknown)}; known: {sorted(_LOSS_WEIGHTS)}")
    weights = {k: loss_weights.get(k, v) for k, v in _LOSS_WEIGHTS.items()}
    missing = [k for k, v in weights.items() if v is None]
    if missing:
        raise ValueError(f"loss_weights needs {missing}")
    return weights
