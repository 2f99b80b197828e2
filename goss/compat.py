"""
The shims Detectron2 needs on this project's pinned stack (see ``docs/install.md``), and one
warning filter. GOSS is tested with Detectron2 v0.6 (the ``pb1-detectron2`` sdist) and with
Detectron2's main branch, both installed without their compiled extension; both report the
version "0.6", so every shim detects the behaviour it works around instead of reading the version.

1. ``detectron2._C`` missing where Detectron2 imports it unguarded. v0.6's
   ``detectron2.layers.deform_conv`` (and ``rotated_boxes``, ``roi_align_rotated`` and the fast
   COCO evaluation) import ``_C`` at import time, so without the extension ``import
   detectron2.layers`` fails. We then attach to the ``detectron2`` package a placeholder module
   whose attributes raise a ``RuntimeError`` that names the compiled op and says why it is
   missing. GOSS uses none of these ops (deformable conv, rotated boxes, fast COCO eval).
   Detectron2 main guards those imports itself (dummy ``DeformConv``, pycocotools' ``COCOeval``
   instead of ``COCOeval_opt``); there a placeholder would defeat its fallbacks, so it is not
   attached (:func:`detectron2_guards_C_imports`).
2. Pillow >= 10 removed ``Image.LINEAR``, which v0.6 uses as a default argument at import time.
   We alias it to ``Image.BILINEAR``.

Each shim is a no-op where it is not needed (a full Detectron2 build, a Detectron2 that guards
its ``_C`` imports, an old Pillow). :func:`apply_shims` is called by ``import goss`` before
anything imports Detectron2's layers.

3. PyTorch >= 2.10 deprecates ``torch.jit.script`` with a ``FutureWarning``, which fvcore's
   ``focal_loss`` and Detectron2's ``box_regression`` trigger at import time (GOSS scripts
   nothing). :func:`apply_shims` imports those two modules with that one warning ignored; the
   filter is not left in place, so the warning still reaches any other caller.
"""

import ast
import importlib
import os
import re
import types
import warnings

__all__ = ["apply_shims", "detectron2_guards_C_imports", "MissingDetectron2Ops"]


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


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _catches_import_error(handler):
    """Whether the ``except`` clause ``handler`` (ast.ExceptHandler) catches an ImportError."""
    if handler.type is None:
        return True
    types_ = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(t, "id", getattr(t, "attr", None)) in _IMPORT_ERRORS for t in types_)


def _unguarded_imports(body, module, is_package):
    """
    The modules that the statements ``body`` of ``module`` import when it is imported, outside a
    ``try`` that catches ImportError; function bodies are skipped (they run later, if at all).

    Yields:
        str: dotted names, ``pkg.name`` for ``from pkg import name`` (a submodule or not).
    """
    for node in body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                parts = parts[: len(parts) - node.level + (1 if is_package else 0)]
                base = ".".join(parts + ([node.module] if node.module else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            if not any(_catches_import_error(h) for h in node.handlers):
                yield from _unguarded_imports(node.body, module, is_package)
            for h in node.handlers:
                yield from _unguarded_imports(h.body, module, is_package)
            yield from _unguarded_imports(node.orelse + node.finalbody, module, is_package)
        else:
            for field in ("body", "orelse", "finalbody"):
                yield from _unguarded_imports(getattr(node, field, []), module, is_package)


def detectron2_guards_C_imports(package_dir=None):
    """
    Whether Detectron2's packages import without ``detectron2._C``: every Detectron2 module that
    imports ``_C`` at import time outside a ``try`` that catches ImportError (those fail) is
    itself imported by the other modules only inside such a ``try`` (so the failure does not
    spread). Read from the sources with :mod:`ast`, without importing them.

    True on Detectron2 main (it falls back where ``_C`` is missing), False on v0.6.

    Args:
        package_dir (str or None): the ``detectron2`` package folder (default: the installed one).
    """
    if package_dir is None:
        import detectron2

        package_dir = os.path.dirname(detectron2.__file__)
    sources = {}  # module -> (source, is_package)
    for root, _, files in os.walk(package_dir):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, os.path.dirname(package_dir))[: -len(".py")]
                parts = rel.split(os.sep)
                is_package = parts[-1] == "__init__"
                with open(path, encoding="utf-8") as f:
                    sources[".".join(parts[:-1] if is_package else parts)] = (f.read(), is_package)
    imports = {}  # module -> the modules it imports unguarded (parsed only where needed)

    def imports_of(module):
        if module not in imports:
            source, is_package = sources[module]
            try:
                tree = ast.parse(source)
            except SyntaxError:
                tree = ast.Module(body=[], type_ignores=[])
            imports[module] = set(_unguarded_imports(tree.body, module, is_package))
        return imports[module]

    def importers(pattern, targets):
        """The modules whose source matches ``pattern`` and that import one of ``targets``."""
        regex = re.compile(pattern, re.MULTILINE)
        return {
            m for m, (src, _) in sources.items() if regex.search(src) and imports_of(m) & targets
        }

    # The modules that import _C unguarded fail to import without it. Detectron2 guards them if
    # no other module imports one of them unguarded (which would make the failure spread).
    leaves = importers(r"^[ \t]*(from\s+\S+\s+)?import\s[^\n]*\b_C\b", {"detectron2._C"})
    words = "|".join(re.escape(m.rsplit(".", 1)[-1]) for m in leaves)
    return not leaves or not importers(rf"\b({words})\b", leaves)


def _shim_missing_detectron2_ops():
    """Attach the placeholder if ``detectron2._C`` cannot be imported and Detectron2 needs it
    at import time. Returns True if applied."""
    import detectron2

    if isinstance(getattr(detectron2, "_C", None), MissingDetectron2Ops):
        return True
    try:
        importlib.import_module("detectron2._C")
        return False
    except ImportError:
        pass
    if detectron2_guards_C_imports():
        return False
    # Only `from detectron2 import _C` (what the v0.6 layers do) sees the placeholder: it is not
    # put in sys.modules, so `import detectron2._C` still fails and Detectron2's environment
    # report (collect_env) correctly says the extension is not built.
    detectron2._C = MissingDetectron2Ops()
    return True


def _shim_pil_linear():
    """Alias ``PIL.Image.LINEAR`` to ``BILINEAR`` on Pillow >= 10. Returns True if applied."""
    from PIL import Image

    if hasattr(Image, "LINEAR"):
        return False
    Image.LINEAR = Image.BILINEAR
    return True


# The modules of Detectron2 (v0.6 and main) and fvcore that call torch.jit.script at import time.
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
