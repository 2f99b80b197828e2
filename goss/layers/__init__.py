"""Python faces of GOSS's compiled ops."""
from .ext import load_ops, ops_available

__all__ = ["load_ops", "ops_available"]
