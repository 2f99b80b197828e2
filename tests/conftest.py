"""Shared pytest setup: GOSS is imported first so the Detectron2 shims are in place."""

import os
import warnings

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import goss  # noqa: E402,F401
