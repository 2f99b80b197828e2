"""
Loading of the compiled extension ``goss._C``.

``import goss`` never needs the extension: each op's Python face calls :func:`load_ops` when it is
used, which raises a ``RuntimeError`` explaining how to build the extension if it is missing.
"""

import importlib
import logging

import torch

__all__ = ["load_ops", "ops_available", "op_available"]

logger = logging.getLogger(__name__)

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


def op_available(name, fallback, arguments=()):
    """
    Whether ``goss._C`` is built and has ``torch.ops.goss.<name>`` taking the named
    ``arguments`` (an extension built before the op, or before those arguments, were added lacks
    them: then log a WARNING that says to rebuild and what ``fallback`` does meanwhile). Cache the
    answer in the caller (it does not change within a process).
    """
    if not ops_available():
        return False
    load_ops()
    if hasattr(torch.ops.goss, name):
        schema = getattr(torch.ops.goss, name).default._schema
        if set(arguments) <= {a.name for a in schema.arguments}:
            return True
    logger.warning(
        "goss._C was built before the %s op (as this version calls it) was added: rebuild it "
        "(`make install`); until then %s",
        name,
        fallback,
    )
    return False
