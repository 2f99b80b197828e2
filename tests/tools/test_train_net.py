"""tools/train_net.py: training with checkpoint/resume on a tiny dataset."""

import shutil

import pytest
import torch

from detectron2.engine import SimpleTrainer
from goss.engine.errors import ToolError
from tests.common import load_tool, small_goss_cfg, write_tiny_goss_dataset


def _cfg(tmp_path, out):
    write_tiny_goss_dataset(tmp_path / "data", "goss_test_tiny_resume", num_images=1)
    cfg = small_goss_cfg(num_known=3, train_mode="n_plus_one", contrastive=False)
    cfg.MODEL.SEM_SEG_HEAD.ASPP_DROPOUT = 0.0
    cfg.INPUT.RANDOM_FLIP = "none"
    cfg.INPUT.MIN_SIZE_TRAIN = (64,)
    cfg.INPUT.MAX_SIZE_TRAIN = 64
    cfg.INPUT.CROP.ENABLED = False
    cfg.DATASETS.TRAIN = ("goss_test_tiny_resume",)
    cfg.DATASETS.TEST = ()
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.SOLVER.IMS_PER_BATCH = 1
    cfg.SOLVER.MAX_ITER = 4
    cfg.SOLVER.CHECKPOINT_PERIOD = 2
    cfg.SOLVER.BASE_LR = 1e-3
    cfg.OUTPUT_DIR = str(tmp_path / out)
    cfg.SEED = 1
    return cfg


def test_resume_continues_identically(tmp_path):
    train_net = load_tool("train_net")
    torch.manual_seed(0)
    cfg = _cfg(tmp_path, "full")
    trainer = train_net.Trainer(cfg)
    trainer.resume_or_load(resume=False)
    trainer.train()
    full = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    # Resume a second run from the full run's iteration-2 checkpoint.
    resumed_dir = tmp_path / "resumed"
    resumed_dir.mkdir()
    (resumed_dir / "model_0000001.pth").write_bytes(
        (tmp_path / "full" / "model_0000001.pth").read_bytes()
    )
    (resumed_dir / "last_checkpoint").write_text("model_0000001.pth")
    cfg2 = _cfg(tmp_path, "resumed")
    trainer2 = train_net.Trainer(cfg2)
    trainer2.resume_or_load(resume=True)
    assert trainer2.start_iter == 2
    trainer2.train()
    for k, v in trainer2.model.state_dict().items():
        assert torch.allclose(v, full[k], atol=1e-6), k


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 4-iteration run: model_0000001.pth, model_0000003.pth, model_final.pth."""
    tmp = tmp_path_factory.mktemp("trained")
    train_net = load_tool("train_net")
    trainer = train_net.Trainer(_cfg(tmp, "run"))
    trainer.resume_or_load(resume=False)
    trainer.train()
    return tmp / "run"


def _resumed(tmp_path, trained, files, last_checkpoint=None, **solver):
    """A Trainer resumed in a fresh OUTPUT_DIR holding copies of ``files`` of ``trained``."""
    out = tmp_path / "resumed"
    out.mkdir()
    for name in files:
        shutil.copy2(trained / name, out / name)
    if last_checkpoint is not None:
        (out / "last_checkpoint").write_text(last_checkpoint)
    cfg = _cfg(tmp_path, "resumed")
    for k, v in solver.items():
        setattr(cfg.SOLVER, k, v)
    trainer = load_tool("train_net").Trainer(cfg)
    trainer.resume_or_load(resume=True)
    return trainer


def test_resume_with_a_larger_max_iter_follows_the_new_schedule(tmp_path, trained, goss_log):
    trainer = _resumed(tmp_path, trained, ["model_final.pth"], "model_final.pth", MAX_ITER=8)
    assert trainer.start_iter == 4
    expected = 1e-3 * (1 - 4 / 8) ** 0.9  # the poly LR of iteration 4 of 8
    assert all(g["lr"] == pytest.approx(expected) for g in trainer.optimizer.param_groups)
    assert "max_iters 4 -> 8" in goss_log.text
    trainer.train()  # the checkpoint's schedule (4 iterations) would fail: math domain error
    final = torch.load(tmp_path / "resumed" / "model_final.pth", weights_only=False)
    assert final["iteration"] == 7


def test_resume_past_max_iter_is_refused(tmp_path, trained):
    with pytest.raises(ToolError, match="model_final.pth ends at iteration 4, beyond .*MAX_ITER 2"):
        _resumed(tmp_path, trained, ["model_final.pth"], "model_final.pth", MAX_ITER=2)


def test_resume_without_last_checkpoint_keeps_the_checkpoints(tmp_path, trained):
    with pytest.raises(ToolError, match="no last_checkpoint but has 1 checkpoints"):
        _resumed(tmp_path, trained, ["model_0000001.pth"])
    copy = (tmp_path / "resumed" / "model_0000001.pth").read_bytes()
    assert copy == (trained / "model_0000001.pth").read_bytes()


def test_resume_without_any_checkpoint_starts_a_new_training(tmp_path, trained, goss_log):
    assert _resumed(tmp_path, trained, []).start_iter == 0
    assert "no checkpoint in" in goss_log.text and "starting a new training" in goss_log.text


@pytest.mark.parametrize("last_checkpoint", ["model_0000009.pth", "", "\x00\x01garbage"])
def test_resume_with_a_bad_last_checkpoint_falls_back(tmp_path, trained, goss_log, last_checkpoint):
    trainer = _resumed(tmp_path, trained, ["model_0000001.pth"], last_checkpoint)
    assert trainer.start_iter == 2
    assert "resuming from" in goss_log.text and "model_0000001.pth, the newest readable" in (
        goss_log.text
    )


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_resume_from_a_truncated_checkpoint(tmp_path, trained, goss_log):
    out = tmp_path / "resumed"
    out.mkdir()
    for name in ("model_0000001.pth", "model_0000003.pth"):
        shutil.copy2(trained / name, out / name)
    _truncate(out / "model_0000003.pth")
    (out / "last_checkpoint").write_text("model_0000003.pth")
    train_net = load_tool("train_net")
    trainer = train_net.Trainer(_cfg(tmp_path, "resumed"))
    trainer.resume_or_load(resume=True)
    assert trainer.start_iter == 2
    assert f"{out / 'model_0000003.pth'} is not readable" in goss_log.text
    _truncate(out / "model_0000001.pth")
    trainer = train_net.Trainer(_cfg(tmp_path, "resumed"))
    with pytest.raises(ToolError, match=r"model_0000003.pth is not readable .*no other model_\*"):
        trainer.resume_or_load(resume=True)


def test_training_checks_num_known_classes(tmp_path):
    train_net = load_tool("train_net")
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(_cfg(tmp_path, "out").dump())
    args = ["--config-file", str(cfg_path), "MODEL.GOSS.NUM_KNOWN_CLASSES", "2"]
    match = "NUM_KNOWN_CLASSES is 2 but dataset 'goss_test_tiny_resume' has 3 known classes"
    with pytest.raises(ToolError, match=match):
        train_net.main(train_net.get_parser().parse_args(args))
    assert not list((tmp_path / "out").glob("*.pth"))


def test_amp_on_the_cpu_trains_with_cpu_autocast(tmp_path):
    from goss.engine.train_loop import CPUAMPTrainer, cpu_supports_bf16

    train_net = load_tool("train_net")
    cfg = _cfg(tmp_path, "amp")
    cfg.SOLVER.AMP.ENABLED = True
    cfg.SOLVER.MAX_ITER = 2
    trainer = train_net.Trainer(cfg)
    assert trainer.cfg.SOLVER.AMP.ENABLED
    expected = CPUAMPTrainer if cpu_supports_bf16() else SimpleTrainer
    assert type(trainer._trainer) is expected
    trainer.resume_or_load(resume=False)
    trainer.train()
    assert (tmp_path / "amp" / "model_final.pth").is_file()
