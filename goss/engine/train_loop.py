"""
Mixed-precision training on the CPU: :class:`CPUAMPTrainer`, the CPU counterpart of Detectron2's
CUDA-only ``AMPTrainer``, for ``SOLVER.AMP.ENABLED`` on a CPU (see :func:`cpu_amp_trainer`).
"""

import logging
import time

import torch

from detectron2.engine import SimpleTrainer

__all__ = ["CPUAMPTrainer", "cpu_amp_trainer", "cpu_supports_bf16", "wants_cpu_amp"]

logger = logging.getLogger(__name__)


def cpu_supports_bf16():
    """Whether oneDNN has native bfloat16 kernels on this CPU (AVX-512 BF16 or AMX)."""
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


class CPUAMPTrainer(SimpleTrainer):
    """
    :class:`SimpleTrainer` with the forward pass under ``torch.autocast("cpu", precision)``
    (bfloat16: no gradient scaling needed). The backward pass and the optimizer step run outside
    autocast, as PyTorch recommends; a model may compute its losses in float32 itself (GOSS does).
    """

    def __init__(self, model, data_loader, optimizer, precision=torch.bfloat16, **kwargs):
        super().__init__(model, data_loader, optimizer, **kwargs)
        self.precision = precision

    def run_step(self):
        assert self.model.training, "[CPUAMPTrainer] model was changed to eval mode!"
        start = time.perf_counter()
        data = next(self._data_loader_iter)
        data_time = time.perf_counter() - start
        # Detectron2 main's options (v0.6 has neither): the default order of zero_grad, and a hook
        zero_first = getattr(self, "zero_grad_before_forward", False)
        if zero_first:
            self.optimizer.zero_grad()
        with torch.autocast("cpu", dtype=self.precision):
            loss_dict = self.model(data)
        if isinstance(loss_dict, torch.Tensor):
            loss_dict = {"total_loss": loss_dict}
        losses = sum(loss_dict.values())
        if not zero_first:
            self.optimizer.zero_grad()
        losses.backward()
        if hasattr(self, "after_backward"):
            self.after_backward()
        self._write_metrics(loss_dict, data_time)
        self.optimizer.step()


def wants_cpu_amp(cfg):
    """
    Whether ``cfg`` trains with ``SOLVER.AMP.ENABLED`` on the CPU, where Detectron2's
    ``AMPTrainer`` (CUDA autocast and gradient scaling) cannot run.
    """
    return bool(cfg.SOLVER.AMP.ENABLED) and torch.device(cfg.MODEL.DEVICE).type == "cpu"


def cpu_amp_trainer(trainer):
    """
    The inner trainer for ``SOLVER.AMP.ENABLED`` on the CPU, over the model, data loader and
    optimizer of ``trainer`` (a :class:`SimpleTrainer`): a bfloat16 :class:`CPUAMPTrainer`, or,
    on a CPU without native bfloat16, a warning and ``trainer`` itself (float32).
    """
    if not cpu_supports_bf16():
        logger.warning(
            "SOLVER.AMP.ENABLED: this CPU has no native bfloat16 support; training in float32"
        )
        return trainer
    logger.info("SOLVER.AMP.ENABLED on the CPU: the forward pass runs under bfloat16 autocast")
    return CPUAMPTrainer(trainer.model, trainer.data_loader, trainer.optimizer)
