"""Shared pytest setup: GOSS is imported first so the Detectron2 shims are in place."""

import logging
import os
import warnings

import pytest

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import goss  # noqa: E402,F401


@pytest.fixture
def goss_log(caplog):
    """
    ``caplog`` for the INFO and higher records of the "goss" loggers, which Detectron2's
    ``setup_logger`` stops propagating.
    """
    caplog.set_level(logging.INFO, logger="goss")
    logger = logging.getLogger("goss")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)
