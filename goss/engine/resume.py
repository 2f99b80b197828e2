"""
What ``train_net.py --resume`` continues from, and the LR schedule it continues with.

``--resume`` continues from the checkpoint that ``OUTPUT_DIR/last_checkpoint`` names. When that
file names a missing or unreadable (e.g. truncated) checkpoint, it continues from the newest
readable ``model_*.pth`` (by modification time) with a WARNING, or fails naming the file. Without
``last_checkpoint`` it starts a new training, but refuses to when ``OUTPUT_DIR`` holds checkpoints
that the new training would overwrite. A resumed training follows the schedule of the current
config (e.g. a larger ``SOLVER.MAX_ITER``), not the checkpoint's.
"""

import glob
import logging
import os

from fvcore.common.checkpoint import Checkpointer

from .errors import ToolError

__all__ = ["checkpoint_to_resume", "check_fresh_start", "continue_training"]

logger = logging.getLogger(__name__)

# The checkpoints Detectron2's PeriodicCheckpointer writes: model_<iteration>.pth, model_final.pth.
CHECKPOINT_PATTERN = "model_*.pth"
# LR scheduler state that is progress, restored from the checkpoint; the rest is the schedule,
# which comes from the current config.
_PROGRESS_KEYS = ("last_epoch", "_step_count", "base_lrs", "_last_lr")


def _checkpoints(save_dir):
    """The checkpoints in ``save_dir``, newest (modification time, then name) first."""
    paths = glob.glob(os.path.join(glob.escape(save_dir), CHECKPOINT_PATTERN))
    return sorted(paths, key=lambda p: (os.path.getmtime(p), p), reverse=True)


def _unreadable(checkpointer, path):
    """Why ``checkpointer`` cannot read the checkpoint ``path``, or None when it can."""
    if not os.path.isfile(path):
        return f"{path} is not a file"
    try:
        # the torch reader that checkpointer.load() uses for a .pth file, called as fvcore's: the
        # DetectionCheckpointer._load_file of Detectron2 main asserts it is inside load()
        Checkpointer._load_file(checkpointer, path)
    except Exception as e:  # torch.load raises several types for a truncated file
        return f"{path} is not readable ({type(e).__name__}: {e})"
    return None


def _tagged_checkpoint(tag_file):
    """``(path, problem)``: the checkpoint that ``last_checkpoint`` names, or why it names none."""
    try:
        with open(tag_file) as f:
            name = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        return None, f"{tag_file} is not readable ({e})"
    if not name:
        return None, f"{tag_file} is empty"
    return os.path.join(os.path.dirname(tag_file), name), None


def checkpoint_to_resume(checkpointer):
    """
    The checkpoint to resume from: the readable file that ``last_checkpoint`` names, or else the
    newest readable checkpoint (with a WARNING).

    Args:
        checkpointer (DetectionCheckpointer): its ``save_dir`` is ``OUTPUT_DIR``.
    Returns:
        str or None: the checkpoint's path; None when ``save_dir`` has no ``last_checkpoint``.
    Raises:
        ToolError: ``last_checkpoint`` exists but no checkpoint is readable.
    """
    tag_file = os.path.join(checkpointer.save_dir, "last_checkpoint")
    if not os.path.exists(tag_file):
        return None
    path, problem = _tagged_checkpoint(tag_file)
    if problem is None:
        problem = _unreadable(checkpointer, path)
    if problem is None:
        return path
    for other in _checkpoints(checkpointer.save_dir):
        if other != path and _unreadable(checkpointer, other) is None:
            logger.warning(
                "cannot resume from last_checkpoint: %s; resuming from %s, the newest readable "
                "checkpoint",
                problem,
                other,
            )
            return other
    raise ToolError(
        f"cannot resume: {problem}, and no other {CHECKPOINT_PATTERN} in "
        f"{checkpointer.save_dir} is readable; to start over, use another OUTPUT_DIR or remove "
        "last_checkpoint"
    )


def check_fresh_start(save_dir):
    """
    ``--resume`` found no ``last_checkpoint``: refuse to start a new training over the checkpoints
    of ``save_dir``, or log that it starts one.

    Raises:
        ToolError: ``save_dir`` has checkpoints.
    """
    existing = _checkpoints(save_dir)
    if existing:
        raise ToolError(
            f"--resume: {save_dir} has no last_checkpoint but has {len(existing)} checkpoints "
            f"(newest {os.path.basename(existing[0])}) that a new training would overwrite; to "
            "continue from one, write its file name into "
            f"{os.path.join(save_dir, 'last_checkpoint')}"
            "; to start over, use another OUTPUT_DIR"
        )
    logger.info("--resume: no checkpoint in %s, starting a new training", save_dir)


def _follow_config_schedule(scheduler, optimizer, config_state):
    """
    Give the restored ``scheduler`` the schedule of ``config_state`` (its ``state_dict`` as built
    from the current config) at the restored iteration, and set the optimizer's LR to it. The
    scheduler's ``get_lr`` must be closed-form (Detectron2's WarmupPolyLR and LRMultiplier are).

    Returns:
        dict[str, tuple]: schedule setting -> (the checkpoint's value, the config's value), for
        the settings that differ.
    """
    restored = scheduler.state_dict()
    state = dict(config_state)
    state.update({k: restored[k] for k in _PROGRESS_KEYS if k in restored})
    changed = {
        k: (restored.get(k), v)
        for k, v in config_state.items()
        if not k.startswith("_") and k not in _PROGRESS_KEYS and restored.get(k) != v
    }
    scheduler.load_state_dict(state)
    lrs = scheduler.get_lr()
    for group, lr in zip(optimizer.param_groups, lrs):
        group["lr"] = lr
    scheduler._last_lr = list(lrs)
    return changed


def continue_training(trainer, path):
    """
    Load the checkpoint ``path`` into a Detectron2 ``trainer`` (model, optimizer, scheduler,
    iteration) and make it continue with the schedule of its config.

    Raises:
        ToolError: the checkpoint is past ``SOLVER.MAX_ITER``.
    """
    config_state = trainer.scheduler.state_dict()  # built from the config, not yet restored
    trainer.checkpointer.load(path)
    trainer.start_iter = trainer.iter + 1
    if trainer.start_iter > trainer.max_iter:
        raise ToolError(
            f"cannot resume: {path} ends at iteration {trainer.start_iter}, beyond SOLVER.MAX_ITER "
            f"{trainer.max_iter}; raise SOLVER.MAX_ITER to train on, or evaluate it with "
            "--eval-only"
        )
    old_lr = [g["lr"] for g in trainer.optimizer.param_groups]
    changed = _follow_config_schedule(trainer.scheduler, trainer.optimizer, config_state)
    logger.info(
        "resuming from %s at iteration %d of SOLVER.MAX_ITER %d",
        path,
        trainer.start_iter,
        trainer.max_iter,
    )
    if changed:
        logger.info(
            "the LR schedule follows the config, not the checkpoint (%s): LR %s -> %s",
            ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()),
            _fmt(old_lr),
            _fmt(g["lr"] for g in trainer.optimizer.param_groups),
        )


def _fmt(lrs):
    return "/".join(f"{lr:.4g}" for lr in sorted(set(lrs)))
