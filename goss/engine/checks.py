"""
Checks the tools run before they train, evaluate or predict: the config against the datasets'
metadata, and the weights against the model.
"""

import logging
import os

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data import MetadataCatalog

from .errors import ToolError

__all__ = ["check_dataset_metadata", "load_trained_weights", "GOSS_HEADS"]

logger = logging.getLogger(__name__)

# The modules every GOSS prediction uses besides the backbone; a backbone initialisation (ImageNet
# weights) has no weights for them.
GOSS_HEADS = ("sem_seg_head", "bpd_head", "dfc_head", "dml_head")
# Detectron2's model zoo and goss:// name backbone initialisations so.
_BACKBONE_INIT_MARK = "ImageNetPretrained/"
_UNTRAINED_HINT = (
    "give the trained model with MODEL.WEIGHTS (e.g. OUTPUT_DIR/model_final.pth), or pass "
    "--allow-untrained to run it anyway"
)


def check_dataset_metadata(cfg, dataset_names):
    """
    Check the config against each dataset's metadata, which the evaluator decodes predictions
    with: ``MODEL.GOSS.NUM_KNOWN_CLASSES`` (N) against ``stuff_classes`` (N + 1 names, the last
    "unknown"), and ``MODEL.GOSS.LABEL_DIVISOR`` (the model's panoptic ids) against
    ``label_divisor``. A dataset without ``stuff_classes`` cannot be checked and gets a WARNING.

    Args:
        cfg (CfgNode): the config.
        dataset_names (iterable[str]): registered dataset names.
    Raises:
        ToolError: naming the key, the dataset and both values.
    """
    n = cfg.MODEL.GOSS.NUM_KNOWN_CLASSES
    divisor = cfg.MODEL.GOSS.LABEL_DIVISOR
    for name in dataset_names:
        meta = MetadataCatalog.get(name)
        classes = meta.get("stuff_classes", None)
        if classes is None:
            logger.warning(
                "dataset %r has no stuff_classes metadata: MODEL.GOSS.NUM_KNOWN_CLASSES (%d) is "
                "not checked against it",
                name,
                n,
            )
            continue
        known = len(classes) - 1
        if known != n:
            raise ToolError(
                f"MODEL.GOSS.NUM_KNOWN_CLASSES is {n} but dataset {name!r} has {known} known "
                f"classes (its stuff_classes has {len(classes)} names, the last 'unknown'): set "
                f"MODEL.GOSS.NUM_KNOWN_CLASSES {known}"
            )
        meta_divisor = meta.get("label_divisor", None)
        if meta_divisor is not None and meta_divisor != divisor:
            raise ToolError(
                f"MODEL.GOSS.LABEL_DIVISOR is {divisor} but dataset {name!r} has label_divisor "
                f"{meta_divisor} (its evaluator decodes the panoptic ids with it): set "
                f"MODEL.GOSS.LABEL_DIVISOR {meta_divisor}"
            )


class _RecordingCheckpointer(DetectionCheckpointer):
    """A ``DetectionCheckpointer`` that keeps the model keys the loaded checkpoint did not fill."""

    unfilled_keys = ()

    def _load_model(self, checkpoint):
        incompatible = super()._load_model(checkpoint)
        # fvcore skips (with a WARNING) the tensors of another shape: they stay random too.
        shapes = [k for k, _, _ in incompatible.incorrect_shapes]
        self.unfilled_keys = list(incompatible.missing_keys) + shapes
        return incompatible


def _weights_name_problem(weights):
    """Why ``weights``, by their name alone, cannot be a trained GOSS model, or None."""
    if not weights:
        return "MODEL.WEIGHTS is empty: the model has random weights"
    if _BACKBONE_INIT_MARK in weights:
        return f"MODEL.WEIGHTS {weights} is a backbone initialisation: the GOSS heads are random"
    return None


def _heads_problem(model, weights, unfilled_keys):
    """Why ``model``, with ``weights`` loaded and ``unfilled_keys`` left, is untrained, or None."""
    heads = [k for k in model.state_dict() if k.split(".", 1)[0] in GOSS_HEADS]
    unfilled = set(unfilled_keys)
    untrained = [k for k in heads if k in unfilled]
    if not untrained:
        return None
    return (
        f"MODEL.WEIGHTS {weights} has no weights (or weights of another shape) for "
        f"{len(untrained)} of the {len(heads)} tensors of the GOSS heads (e.g. {untrained[0]}): "
        "it is not a trained GOSS model of this config"
    )


def load_trained_weights(model, weights, allow_untrained=False):
    """
    Load ``weights`` into ``model`` for inference, refusing a model that would predict with random
    heads: empty ``weights``, a backbone initialisation such as
    ``goss://ImageNetPretrained/mobilenet_v2`` (refused before it is loaded), or a checkpoint that
    leaves any tensor of the GOSS heads (:data:`GOSS_HEADS`) unfilled.

    Args:
        model (nn.Module): a GOSS model.
        weights (str): a path or URL (``MODEL.WEIGHTS``), may be empty.
        allow_untrained (bool): load and warn instead of raising.
    Raises:
        ToolError: ``weights`` is a local path that does not exist, or the model is untrained
            and ``allow_untrained`` is False.
    """
    if weights and "://" not in weights and not os.path.isfile(weights):
        raise ToolError(f"MODEL.WEIGHTS {weights}: no such file")
    problem = _weights_name_problem(weights)
    if problem is None or allow_untrained:
        checkpointer = _RecordingCheckpointer(model)
        checkpointer.load(weights)
        if problem is None:
            problem = _heads_problem(model, weights, checkpointer.unfilled_keys)
    if problem is None:
        return
    if not allow_untrained:
        raise ToolError(f"{problem}; {_UNTRAINED_HINT}")
    logger.warning("%s; running it anyway (--allow-untrained)", problem)
