#!/usr/bin/env python
"""
Print GQ results side by side as a Markdown table.

    python tools/compare_results.py NAME=path/gq_results.json [NAME=path/gq_results.json ...]

Each file is a ``gq_results.json`` written by the GQ evaluator (``tools/train_net.py``) or by
``tools/evaluate_goss.py``; values are in percent.
"""

import argparse
import json
import sys

KEYS = ("GQ", "GQ_kn", "GQ_uk", "SQ_uk", "RQ_uk", "GQ_kn_present", "mIoU", "GQ_clu", "AUROC")


def load(spec):
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = spec, spec
    try:
        with open(path) as f:
            results = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"error: cannot read results {path}: {e}")
    return name, results.get("goss", results)


def table(rows):
    """rows: list of (name, dict) -> Markdown table over the KEYS present in any row."""
    keys = [k for k in KEYS if any(k in r for _, r in rows)]
    lines = ["| model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, r in rows:
        cells = [f"{r[k]:.1f}" if isinstance(r.get(k), (int, float)) else "–" for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="NAME=path/to/gq_results.json")
    args = parser.parse_args(argv)
    print(table([load(spec) for spec in args.results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
