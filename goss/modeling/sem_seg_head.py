"""The semantic branch of GOSS: a DeepLabV3+ head with N or N+1 outputs."""

from detectron2.modeling import SEM_SEG_HEADS_REGISTRY
from detectron2.projects.deeplab import DeepLabV3PlusHead

__all__ = ["GOSSSemSegHead", "num_semantic_outputs"]


def num_semantic_outputs(cfg):
    """
    N for an N-model (``TRAIN_MODE: n``), N+1 for an N+1-model (``TRAIN_MODE: n_plus_one``); a
    DML model (``MODEL.DML.ENABLED``) outputs ``MODEL.DML.EMBED_DIM`` embedding channels instead.
    """
    mode = cfg.MODEL.GOSS.TRAIN_MODE
    if mode not in ("n", "n_plus_one"):
        raise ValueError(f"MODEL.GOSS.TRAIN_MODE must be 'n' or 'n_plus_one', got {mode!r}")
    if cfg.MODEL.DML.ENABLED:
        if mode != "n":
            raise ValueError(
                "MODEL.DML.ENABLED needs MODEL.GOSS.TRAIN_MODE 'n' (one prototype per known "
                f"class), got {mode!r}"
            )
        return cfg.MODEL.DML.EMBED_DIM
    return cfg.MODEL.GOSS.NUM_KNOWN_CLASSES + (1 if mode == "n_plus_one" else 0)


@SEM_SEG_HEADS_REGISTRY.register()
class GOSSSemSegHead(DeepLabV3PlusHead):
    """
    DeepLabV3+ (Chen et al. 2018) returning its logits in training and inference alike; the
    GOSS meta-architecture computes the (pixel-weighted) loss and the identification itself.

    Its ``__init__`` is :class:`DeepLabV3PlusHead`'s (same arguments; ``num_classes`` is N or
    N+1); being ``configurable``, it reads this class's :meth:`from_config`.
    """

    @classmethod
    def from_config(cls, cfg, input_shape):
        ret = super().from_config(cfg, input_shape)
        ret["num_classes"] = num_semantic_outputs(cfg)
        ret["loss_type"] = "cross_entropy"
        # Global image pooling in ASPP at any input size (as the reference), not a pooling
        # kernel fixed by the training crop.
        ret["train_size"] = None
        return ret

    def forward(self, features, targets=None):
        """
        Args:
            features (dict[str, Tensor]): backbone features.
        Returns:
            Tensor: logits ``[B, N or N+1, H / common_stride, W / common_stride]`` (embeddings
            ``[B, D, ...]`` in a DML model).
        """
        return self.layers(features)
