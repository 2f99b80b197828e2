"""Registration of the GOSS datasets in Detectron2's catalogues (happens on import)."""

from . import register_goss_builtin  # noqa: F401
from .builtin_meta import GOSS_SPLITS, split_metadata, split_spec
from .goss_loader import load_goss_json, register_goss_split

__all__ = ["GOSS_SPLITS", "load_goss_json", "register_goss_split", "split_metadata", "split_spec"]
