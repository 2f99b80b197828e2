"""tools/train_net.py: training with checkpoint/resume on a tiny dataset."""

import torch

from tests.common import small_goss_cfg, load_tool, write_tiny_goss_dataset


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
