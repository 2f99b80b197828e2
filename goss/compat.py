"""
The two shims Detectron2 v0.6 needs on this project's pinned stack (see ``docs/install.md``),
and one warning filter.

1. ``detectron2._C`` missing: the ``pb1-detectron2`` sdist installs without its compiled
   extension, yet ``detectron2.layers.deform_conv`` (and a few other modules) import ``_C`` at
   import time. We attach to the ``detectron2`` package a placeholder module whose attributes
   raise a ``RuntimeError`` that names the compiled op and says why it is missing. GOSS uses
   none of these ops (deformable conv, rotated boxes, fast COCO eval).
2. Pillow >= 10 removed ``Image.LINEAR``, which v0.6 uses as a default argument at import time.
   We alias it to ``Image.BILINEAR``.

Each shim is a no-op where it is not needed (a full Detectron2 build, an old Pillow).
:func:`apply_shims` is called by ``import goss`` before anything imports Detectron2's layers.

3. PyTorch >= 2.10 deprecates ``torch.jit.script`` with a ``FutureWarning``, which fvcore's
   ``focal_loss`` and Detectron2's ``box_regression`` trigger at import time (GOSS scripts
   nothing). :func:`apply_shims` imports those two modules with that one warning ignored; the
   filter is not left in place, so the warning still reaches any other caller.
"""

import importlib
import types
import warnings

__all__ = ["apply_shims", "MissingDetectron2Ops"]


class MissingDetectron2Ops(types.ModuleType):
    """
    Stands in for ``detectron2._C`` when Detectron2 was installed without its extension.
    Importing it works; using any op raises a ``RuntimeError`` naming the op.
    """

    def __init__(self):
        super().__init__("detectron2._C")
        self.__file__ = None
        self.__goss_placeholder__ = True

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise RuntimeError(
            f"detectron2._C.{name} is not available: this Detectron2 was installed without its "
            "compiled extension (the pb1-detectron2 v0.6 sdist ships no C++/CUDA sources). "
            f"GOSS does not use '{name}'; to use it, install a full Detectron2 build."
        )


def _shim_missing_detectron2_ops():
    """Attach the placeholder if ``detectron2._C`` cannot be imported. Returns True if applied."""
    import detectron2

    try:
        importlib.import_module("detectron2._C")
        return False
    except ImportError:
        pass
    # Only `from detectron2 import _C` (what the v0.6 layers do) sees the placeholder: it is not
    # put in sys.modules, so `import detectron2._C` still fails and Detectron2's environment
    # report (collect_env) correctly says the extension is not built.
    if not isinstance(getattr(detectron2, "_C", None), MissingDetectron2Ops):
        detectron2._C = MissingDetectron2Ops()
    return True


def _shim_pil_linear():
    """Alias ``PIL.Image.LINEAR`` to ``BILINEAR`` on Pillow >= 10. Returns True if applied."""
    from PIL import Image

    if hasattr(Image, "LINEAR"):
        return False
    Image.LINEAR = Image.BILINEAR
    return True


# The modules of Detectron2 v0.6 (and its fvcore) that call torch.jit.script at import time.
_TORCHSCRIPT_AT_IMPORT = ("fvcore.nn.focal_loss", "detectron2.modeling.box_regression")


def _import_without_torchscript_warning():
    """Import :data:`_TORCHSCRIPT_AT_IMPORT` with only their ``torch.jit.script`` FutureWarning
    silenced (a no-op once they are imported)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning
        )
        for name in _TORCHSCRIPT_AT_IMPORT:
            importlib.import_module(name)


def apply_shims():
    """
    Apply both shims (idempotent), then import the modules that trigger the ``torch.jit.script``
    deprecation warning without it.

    Returns:
        dict[str, bool]: which shims were needed, keyed ``"detectron2_C"`` and ``"pil_linear"``.
    """
    applied = {"detectron2_C": _shim_missing_detectron2_ops(), "pil_linear": _shim_pil_linear()}
    _import_without_torchscript_warning()
    return applied
