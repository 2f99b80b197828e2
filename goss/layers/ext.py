"""
Loading of the compiled extension ``goss._C``.

``import goss`` never needs the extension: each op's Python face calls :func:`load_ops` when it is
used, which raises a ``RuntimeError`` explaining how to build the extension if it is missing.
"""

import importlib

__all__ = ["load_ops", "ops_available"]

_BUILD_HINT = (
    "the compiled GOSS ops (goss._C) are not built: run `make install` or "
    "`pip install -e . --no-build-isolation` in the GOSS checkout (add FORCE_CUDA=1 for CUDA)"
)


def load_ops():
    """
    Import ``goss._C`` (which registers ``torch.ops.goss.*``) and return it.

    Raises:
        RuntimeError: if the extension is not built, with the original import error chained.
    """
    try:
        return importlib.import_module("goss._C")
    except ImportError as e:
        raise RuntimeError(f"{_BUILD_HINT} ({e})") from e


def ops_available():
    """Return True if ``goss._C`` can be imported."""
    try:
        load_ops()
        return True
    except RuntimeError:
        return False
