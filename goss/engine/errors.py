"""The error the tools refuse to run with."""

__all__ = ["ToolError"]


class ToolError(ValueError):
    """
    A config, dataset, weights file or output folder a tool refuses to run with. The message says
    what is wrong and what to do; the tools print it as one line (no traceback) and exit with
    status 2.
    """
