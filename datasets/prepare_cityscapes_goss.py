#!/usr/bin/env python
"""
Build Cityscapes-GOSS (Manual-16/3: unknown car, truck, bus; Manual-13/6: also building, traffic
sign, vegetation) from Cityscapes ``leftImg8bit/{train,val}/<city>/*_leftImg8bit.png`` and
``gtFine/{train,val}/<city>/*_gtFine_labelIds.png``, via the 19 train classes, into
<output>/cityscapes_goss_{16_3,13_6}/{train,val}. All images are kept (paper: 2975 / 500);
unknown pixels are void (255) in the semantic maps.
"""

import json
import os
import sys

from goss.data.builder import Sample
from goss.data.builder_cli import (
    base_parser,
    build_subset,
    require_dirs,
    script_main,
    setup_logging,
)

IMAGE_SUFFIX, LABEL_SUFFIX = "_leftImg8bit.png", "_gtFine_labelIds.png"
EXPECTED = {"train": 2975, "val": 500}


def cityscapes_samples(root, subset):
    """Samples of ``subset`` (sorted by city, then file); a missing label is an error."""
    image_dir = os.path.join(root, "leftImg8bit", subset)
    label_dir = os.path.join(root, "gtFine", subset)
    for d in (image_dir, label_dir):
        if not os.path.isdir(d):
            raise FileNotFoundError(f"{d}: directory not found")
    samples = []
    for city in sorted(os.listdir(image_dir)):
        for name in sorted(os.listdir(os.path.join(image_dir, city))):
            if not name.endswith(IMAGE_SUFFIX):
                continue
            stem = name[: -len(IMAGE_SUFFIX)]
            label = os.path.join(label_dir, city, stem + LABEL_SUFFIX)
            if not os.path.isfile(label):
                raise FileNotFoundError(f"{label}: label of {name} not found")
            samples.append(Sample(stem, os.path.join(image_dir, city, name), label))
    if not samples:
        raise FileNotFoundError(f"{image_dir}: no *{IMAGE_SUFFIX} images")
    return samples


@script_main
def main(argv=None):
    parser = base_parser(__doc__)
    parser.add_argument("--cityscapes-root", required=True)
    parser.add_argument("--splits", nargs="+", default=["16_3", "13_6"], choices=["16_3", "13_6"])
    parser.add_argument("--subsets", nargs="+", default=["train", "val"], choices=["train", "val"])
    args = parser.parse_args(argv)
    setup_logging()
    for subset in args.subsets:
        require_dirs(
            "--cityscapes-root",
            args.cityscapes_root,
            (os.path.join("leftImg8bit", subset), os.path.join("gtFine", subset)),
        )
    summary = {}
    for subset in args.subsets:
        samples = cityscapes_samples(args.cityscapes_root, subset)
        for key in args.splits:
            goss_split = f"cityscapes_goss_{key}"
            manifest = build_subset(args, goss_split, subset, samples)
            summary.setdefault(goss_split, {})[subset] = {
                "kept": manifest["num_kept"],
                "paper": EXPECTED[subset],
            }
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
