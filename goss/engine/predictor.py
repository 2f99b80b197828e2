"""A predictor that runs a GOSS model on one image exactly as ``train_net.py --eval-only`` does."""

import torch

from detectron2.modeling import build_model

from ..data import GOSSDatasetMapper
from .checks import load_trained_weights

__all__ = ["GOSSPredictor"]


class GOSSPredictor:
    """
    Runs a GOSS model on one image with the test transforms of
    ``GOSSDatasetMapper(cfg, is_train=False)`` (what ``--eval-only`` uses) and returns the outputs
    at the image's size.

    Unlike Detectron2's ``DefaultPredictor``, which takes BGR images and flips them for an RGB
    model, it takes images in ``cfg.INPUT.FORMAT``, as ``read_image(path, cfg.INPUT.FORMAT)``
    returns them.
    """

    def __init__(self, cfg, allow_untrained=False):
        """
        Args:
            cfg (CfgNode): the config; ``MODEL.WEIGHTS`` must be a trained GOSS model.
            allow_untrained (bool): see :func:`goss.engine.checks.load_trained_weights`.
        """
        self.cfg = cfg.clone()
        self.model = build_model(self.cfg)
        self.model.eval()
        load_trained_weights(self.model, cfg.MODEL.WEIGHTS, allow_untrained)
        self.mapper = GOSSDatasetMapper(self.cfg, is_train=False)

    def __call__(self, image):
        """
        Args:
            image (ndarray): ``[H, W, 3]`` uint8 in ``cfg.INPUT.FORMAT`` channel order.
        Returns:
            dict: the model's outputs for the image (``panoptic_seg``, ``sem_seg``, ...).
        Raises:
            ValueError: the test transforms cannot resize the image (an extreme aspect ratio).
        """
        height, width = image.shape[:2]
        try:
            tensor, _ = self.mapper.apply_augmentations(image)
        except ValueError as e:  # PIL: "height and width must be > 0"
            raise ValueError(self._resize_error(height, width, e)) from e
        if min(tensor.shape[1:]) < 1:
            raise ValueError(self._resize_error(height, width, f"{tuple(tensor.shape[1:])}"))
        with torch.no_grad():
            return self.model([{"image": tensor, "height": height, "width": width}])[0]

    def _resize_error(self, height, width, reason):
        t = self.cfg.INPUT
        return (
            f"an image of {height}x{width} pixels cannot be resized to INPUT.MIN_SIZE_TEST "
            f"{t.MIN_SIZE_TEST} / INPUT.MAX_SIZE_TEST {t.MAX_SIZE_TEST} (aspect ratio too "
            f"extreme): {reason}"
        )
