#!/usr/bin/env python
"""Print the image and per-class counts of built GOSS splits (from their manifest.json files)."""

import argparse
import json
import os

from tabulate import tabulate


def summarize(split_dir):
    """Rows of (kind, name, images, pixels, unknown segments) and the image counts of a split."""
    with open(os.path.join(split_dir, "manifest.json")) as f:
        m = json.load(f)
    rows = [("known", c["name"], c["images"], c["pixels"], "") for c in m["known_classes"]]
    rows += [
        ("unknown", c["name"], c["images"], c["pixels"], c["segments"])
        for c in m["unknown_classes"]
    ]
    head = {k: m[k] for k in ("split", "num_images", "num_kept", "num_dropped", "void_pixels")}
    head["unknown_segments"] = m["unknown_segments"]
    return head, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("split_dirs", nargs="+", help="e.g. datasets/camvid_goss_8_3/val")
    parser.add_argument("--per-class", action="store_true")
    args = parser.parse_args(argv)
    heads = []
    for d in args.split_dirs:
        head, rows = summarize(d)
        heads.append(head)
        if args.per_class:
            print(head["split"])
            print(tabulate(rows, ["kind", "class", "images", "pixels", "unknown segments"]))
    print(tabulate([list(h.values()) for h in heads], list(heads[0]), tablefmt="github"))


if __name__ == "__main__":
    main()
