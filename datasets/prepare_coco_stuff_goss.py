#!/usr/bin/env python
"""
Build COCO-Stuff-GOSS (VOC-20/60, Manual-20/60, Random-111/60) from COCO 2017 images
(``<coco-root>/{train2017,val2017}/*.jpg``) and the COCO-Stuff ``stuffthingmaps_trainval2017``
PNGs (value = COCO-Stuff id - 1, 255 unlabelled) into
<output>/coco_stuff_goss_{voc,manual,random}/{train,val}. Training images: train2017 images with
no unknown pixel; test images: val2017 images with at least one unknown pixel.
"""

import json
import os
import sys

from goss.data.builder_cli import (
    base_parser,
    build_subset,
    paired_samples,
    require_dirs,
    script_main,
    setup_logging,
)

# paper Table 2 (train, val)
PAPER_COUNTS = {"voc": (21711, 4080), "manual": (17293, 4264), "random": (18707, 4156)}
SOURCE = {"train": "train2017", "val": "val2017"}


@script_main
def main(argv=None):
    parser = base_parser(__doc__)
    parser.add_argument("--coco-root", required=True, help="holds train2017/ and val2017/")
    parser.add_argument(
        "--stuffthingmaps",
        default=None,
        help="directory with train2017/ and val2017/ label PNGs "
        "(default: <coco-root>/stuffthingmaps_trainval2017)",
    )
    parser.add_argument("--splits", nargs="+", default=list(PAPER_COUNTS), choices=PAPER_COUNTS)
    parser.add_argument("--subsets", nargs="+", default=["train", "val"], choices=["train", "val"])
    args = parser.parse_args(argv)
    setup_logging()
    maps = args.stuffthingmaps or os.path.join(args.coco_root, "stuffthingmaps_trainval2017")
    folders = [SOURCE[s] for s in args.subsets]
    require_dirs("--coco-root", args.coco_root, folders)
    require_dirs("--stuffthingmaps", maps, folders)
    summary = {}
    for subset in args.subsets:
        samples = paired_samples(
            os.path.join(args.coco_root, SOURCE[subset]),
            os.path.join(maps, SOURCE[subset]),
            lambda stem: stem + ".png",
        )
        for key in args.splits:
            goss_split = f"coco_stuff_goss_{key}"
            manifest = build_subset(args, goss_split, subset, samples)
            summary.setdefault(goss_split, {})[subset] = {
                "kept": manifest["num_kept"],
                "dropped": manifest["num_dropped"],
                "paper": PAPER_COUNTS[key][subset == "val"],
            }
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
