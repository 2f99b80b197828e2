"""Command-line pieces shared by the ``datasets/prepare_*.py`` builder scripts."""

import argparse
import logging
import os

__all__ = ["base_parser", "setup_logging", "default_root"]


def default_root():
    """The datasets root: ``$DETECTRON2_DATASETS``, default ``datasets``."""
    return os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))


def base_parser(description):
    """``--output`` (datasets root), ``--workers``, ``--no-progress``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--output",
        default=default_root(),
        help="datasets root the split directories are written under "
        "(default: $DETECTRON2_DATASETS or 'datasets')",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def setup_logging():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
