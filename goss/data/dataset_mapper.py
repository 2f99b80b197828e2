"""Reads a GOSS dataset dict into the inputs of the GOSS model."""

import copy
import logging

import numpy as np
import torch

from detectron2.config import configurable
from detectron2.data import transforms as T

from .image_io import read_image
from .outlier_paste import OutlierPaste
from .target_generator import GOSSTargetGenerator

__all__ = ["GOSSDatasetMapper"]

logger = logging.getLogger(__name__)


class GOSSDatasetMapper:
    """
    Maps a GOSS dataset dict (``file_name``, ``sem_seg_file_name``, ``segments_info``, ...) to
    model inputs. Training: augmented ``image`` plus the targets of
    :class:`GOSSTargetGenerator`. Inference: ``image`` only, with the dict's ground-truth fields
    (``pan_seg_file_name``, ``segments_info``) kept for the evaluator.
    """

    @configurable
    def __init__(
        self,
        is_train,
        *,
        augmentations,
        image_format,
        target_generator,
        outlier_paste=None,
    ):
        """
        NOTE: this interface is experimental.

        Args:
            is_train (bool): training (targets) or inference (image only).
            augmentations (list[T.Augmentation]): applied to the image and the semantic map.
            image_format (str): ``INPUT.FORMAT``.
            target_generator (GOSSTargetGenerator): builds the training targets from the
                augmented and the source-resolution semantic map (small segments weighted up).
            outlier_paste (OutlierPaste or None): pastes outlier objects (class N) into
                augmented training images (N+1 models only).
        """
        self.is_train = is_train
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.target_generator = target_generator
        self.outlier_paste = outlier_paste

    @classmethod
    def from_config(cls, cfg, is_train=True):
        if is_train:
            augs = [
                T.ResizeShortestEdge(
                    cfg.INPUT.MIN_SIZE_TRAIN,
                    cfg.INPUT.MAX_SIZE_TRAIN,
                    cfg.INPUT.MIN_SIZE_TRAIN_SAMPLING,
                )
            ]
            if cfg.INPUT.CROP.ENABLED:
                augs.append(T.RandomCrop(cfg.INPUT.CROP.TYPE, cfg.INPUT.CROP.SIZE))
            if cfg.INPUT.RANDOM_FLIP != "none":
                augs.append(
                    T.RandomFlip(
                        horizontal=cfg.INPUT.RANDOM_FLIP == "horizontal",
                        vertical=cfg.INPUT.RANDOM_FLIP == "vertical",
                    )
                )
        else:
            augs = [T.ResizeShortestEdge(cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST)]
        paste = None
        op = cfg.INPUT.OUTLIER_PASTE
        g = cfg.MODEL.GOSS
        if is_train and g.TRAIN_MODE == "n_plus_one" and not (g.VOID_AS_UNKNOWN or op.ENABLED):
            raise ValueError(
                "MODEL.GOSS.VOID_AS_UNKNOWN False leaves class N of an N+1-model untrained "
                "without INPUT.OUTLIER_PASTE.ENABLED"
            )
        if is_train and op.ENABLED:
            if g.TRAIN_MODE != "n_plus_one":
                raise ValueError(
                    "INPUT.OUTLIER_PASTE.ENABLED pastes class-N objects and needs "
                    f"MODEL.GOSS.TRAIN_MODE n_plus_one, got {g.TRAIN_MODE!r}"
                )
            paste = OutlierPaste(
                g.NUM_KNOWN_CLASSES,
                op.PROB,
                op.MAX_OBJECTS,
                op.SIZE_RANGE,
                op.TEXTURE,
                op.SIZE_SAMPLING,
            )
        return {
            "is_train": is_train,
            "augmentations": augs,
            "image_format": cfg.INPUT.FORMAT,
            "target_generator": GOSSTargetGenerator.from_config(cfg),
            "outlier_paste": paste,
        }

    def apply_augmentations(self, image, sem_seg=None):
        """
        Args:
            image (ndarray): ``[H, W, 3]`` uint8 in ``image_format``.
            sem_seg (ndarray or None): ``[H, W]`` uint8 labels, transformed with the image (and
                given the pasted outliers, when configured).
        Returns:
            (Tensor, ndarray or None): the model's ``image`` (``[3, H', W']`` uint8) and the
            transformed ``sem_seg``.
        """
        aug_input = T.AugInput(image, sem_seg=sem_seg)
        self.augmentations(aug_input)
        image, sem_seg = aug_input.image, aug_input.sem_seg
        if sem_seg is not None and self.outlier_paste is not None:
            image, sem_seg = self.outlier_paste(image, sem_seg)
        image = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
        return image, sem_seg

    def __call__(self, dataset_dict):
        """
        Args:
            dataset_dict (dict): one GOSS dataset record.
        Returns:
            dict: model input (``image`` ``[3, H, W]`` uint8 tensor, ``height``, ``width``, and
            in training ``sem_seg``, ``sem_seg_weights``, ``bpd_field``, ``bpd_weights``).
        """
        dataset_dict = copy.deepcopy(dataset_dict)
        image = read_image(dataset_dict["file_name"], self.image_format)
        sem_seg = None
        if self.is_train:
            path = dataset_dict.get("sem_seg_file_name")
            if path is None:
                raise ValueError(f"{dataset_dict['file_name']}: no sem_seg_file_name to train on")
            sem_seg = read_image(path, None)
            if sem_seg.ndim != 2:
                raise ValueError(f"{path}: a semantic label PNG must be single-channel")
            sem_seg = sem_seg.astype(np.uint8)  # uint8 keeps Detectron2's PIL resize path
            if sem_seg.shape != image.shape[:2]:
                raise ValueError(
                    f"{path}: label size {sem_seg.shape} != image size {image.shape[:2]} "
                    f"of {dataset_dict['file_name']}"
                )
        dataset_dict["image"], aug_sem_seg = self.apply_augmentations(image, sem_seg)
        if self.is_train:
            dataset_dict.update(self.target_generator(aug_sem_seg, sem_seg))
            dataset_dict.pop("segments_info", None)
        return dataset_dict
