"""Mixed precision on the CPU (goss.engine.train_loop) and the channels-last GOSS model."""

import itertools

import pytest
import torch

from detectron2.engine import SimpleTrainer
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage
from goss.engine.optimizer import build_optimizer
from goss.engine.train_loop import CPUAMPTrainer, cpu_amp_trainer, cpu_supports_bf16, wants_cpu_amp
from tests.common import small_goss_cfg
from tests.modeling.test_goss_e2e import _toy_batch

needs_bf16 = pytest.mark.skipif(not cpu_supports_bf16(), reason="no native bfloat16 on this CPU")


def _cfg(**goss):
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp")
    cfg.MODEL.SEM_SEG_HEAD.ASPP_DROPOUT = 0.0
    for k, v in goss.items():
        setattr(cfg.MODEL.GOSS, k, v)
    return cfg


def test_wants_cpu_amp_only_with_amp_on_the_cpu():
    cfg = _cfg()
    cfg.SOLVER.AMP.ENABLED = True
    assert wants_cpu_amp(cfg)
    cfg.MODEL.DEVICE = "cuda"
    assert not wants_cpu_amp(cfg)
    cfg.MODEL.DEVICE = "cpu"
    cfg.SOLVER.AMP.ENABLED = False
    assert not wants_cpu_amp(cfg)


class _Recorder(torch.nn.Module):
    """A conv whose output dtype is recorded; the loss is float32 of it."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, 3)
        self.dtypes = []

    def forward(self, batch):
        y = self.conv(batch)
        self.dtypes.append(y.dtype)
        return {"loss": y.float().square().mean()}


@needs_bf16
def test_cpu_amp_trainer_autocasts_the_forward_only():
    model = _Recorder()
    before = model.conv.weight.detach().clone()
    data = itertools.repeat(torch.randn(2, 3, 8, 8))
    trainer = CPUAMPTrainer(model, data, torch.optim.SGD(model.parameters(), lr=0.1))
    with EventStorage(0):
        trainer.run_step()
    assert model.dtypes == [torch.bfloat16]
    assert (
        model.conv.weight.dtype == torch.float32 and model.conv.weight.grad.dtype == torch.float32
    )
    assert not torch.equal(model.conv.weight.detach(), before)
    assert not torch.is_autocast_enabled("cpu")


def test_cpu_amp_trainer_falls_back_to_float32_without_bf16(monkeypatch):
    import goss.engine.train_loop as train_loop

    model = _Recorder()
    inner = SimpleTrainer(
        model,
        itertools.repeat(torch.randn(1, 3, 8, 8)),
        torch.optim.SGD(model.parameters(), lr=0.1),
    )
    monkeypatch.setattr(train_loop, "cpu_supports_bf16", lambda: False)
    assert cpu_amp_trainer(inner) is inner
    monkeypatch.setattr(train_loop, "cpu_supports_bf16", lambda: True)
    assert isinstance(cpu_amp_trainer(inner), CPUAMPTrainer)


@needs_bf16
def test_goss_losses_are_float32_under_autocast_and_close_to_float32():
    torch.manual_seed(0)
    model = build_model(_cfg())
    model.train()
    batch = _toy_batch(3, "n")
    torch.manual_seed(1)
    ref = model(batch)
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        amp = model(batch)
    assert set(amp) == set(ref)
    for k in ref:
        assert amp[k].dtype == torch.float32, k
        assert torch.isfinite(amp[k]), k
    # the semantic and BPD losses move by bfloat16 rounding only (the contrastive loss samples
    # anchors from the predictions, which rounding may change)
    for k in ("loss_sem_seg", "loss_bpd"):
        assert amp[k].item() == pytest.approx(ref[k].item(), rel=0.05), k
    sum(amp.values()).backward()
    assert all(p.grad.dtype == torch.float32 for p in model.parameters() if p.grad is not None)


def test_channels_last_model_is_the_same_model():
    torch.manual_seed(0)
    plain = build_model(_cfg(CHANNELS_LAST=False))
    fast = build_model(_cfg(CHANNELS_LAST=True))
    fast.load_state_dict(plain.state_dict())
    conv = fast.backbone.features[0][0].weight  # the stem, [32, 3, 3, 3]
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert all(p.is_contiguous() for p in plain.parameters())
    batch = _toy_batch(3, "n")
    plain.eval()
    fast.eval()
    with torch.no_grad():
        a = plain([{"image": batch[0]["image"]}])[0]
        b = fast([{"image": batch[0]["image"]}])[0]
    assert torch.allclose(a["sem_seg"], b["sem_seg"], atol=1e-4)
    assert torch.allclose(a["bpd_field"], b["bpd_field"], atol=1e-4)
    # the state dict saves and loads across memory formats
    plain.load_state_dict(fast.state_dict())
    assert all(p.is_contiguous() for p in plain.parameters())


def test_adam_is_fused_and_sgd_still_builds():
    cfg = _cfg()
    model = build_model(cfg)
    adam = build_optimizer(cfg, model)
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["fused"]
    cfg.SOLVER.OPTIMIZER = "SGD"
    assert isinstance(build_optimizer(cfg, model), torch.optim.SGD)
    cfg.SOLVER.OPTIMIZER = "lamb"
    with pytest.raises(ValueError, match="SOLVER.OPTIMIZER"):
        build_optimizer(cfg, model)
