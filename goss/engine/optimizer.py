"""The optimizer of GOSS training: Adam (the paper's) or SGD, on Detectron2's parameter groups."""

import torch

from detectron2.solver import get_default_optimizer_params
from detectron2.solver.build import maybe_add_gradient_clipping

__all__ = ["build_optimizer"]


def build_optimizer(cfg, model):
    """
    ``SOLVER.OPTIMIZER`` ("ADAM" or "SGD") over ``model``'s parameters, with
    ``SOLVER.WEIGHT_DECAY``/``WEIGHT_DECAY_NORM`` and Detectron2's gradient clipping. Adam uses
    PyTorch's fused kernel (the same update, one pass over all parameters; on the CPU about twice
    as fast as the per-parameter loop).
    """
    params = get_default_optimizer_params(
        model,
        weight_decay=cfg.SOLVER.WEIGHT_DECAY,
        weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
    )
    name = cfg.SOLVER.OPTIMIZER.upper()
    if name == "ADAM":
        optimizer = torch.optim.Adam(params, cfg.SOLVER.BASE_LR, fused=True)
    elif name == "SGD":
        optimizer = torch.optim.SGD(
            params,
            cfg.SOLVER.BASE_LR,
            momentum=cfg.SOLVER.MOMENTUM,
            nesterov=cfg.SOLVER.NESTEROV,
        )
    else:
        raise ValueError(f"SOLVER.OPTIMIZER must be ADAM or SGD, got {cfg.SOLVER.OPTIMIZER!r}")
    return maybe_add_gradient_clipping(cfg, optimizer)
