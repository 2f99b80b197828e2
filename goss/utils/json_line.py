"""The output of the benchmark tools: one JSON line on stdout, the same line in a file."""

import json

from ..data.goss_format import atomic_write_bytes

__all__ = ["print_json_line"]


def print_json_line(result, path=None):
    """
    Print ``result`` (a JSON-serialisable dict) as one JSON line and, with ``path``, write the same
    line there (its folder created; written to a temporary file and renamed, so never half-written).

    Returns:
        str: the line, without its newline.
    """
    line = json.dumps(result)
    print(line)
    if path:
        atomic_write_bytes(path, (line + "\n").encode())
    return line
