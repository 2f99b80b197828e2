"""
GOSS: generalized open-set semantic segmentation on Detectron2.

``import goss`` applies the Detectron2 v0.6 shims (``goss.compat``) and registers GOSS's
meta-architectures, heads and datasets with Detectron2's registries and catalogues.
"""

from .compat import apply_shims

apply_shims()

from .config import add_goss_config  # noqa: E402
from . import data, evaluation, layers, modeling  # noqa: E402,F401

__all__ = ["add_goss_config"]
__version__ = "0.1.0"
