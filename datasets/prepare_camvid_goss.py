#!/usr/bin/env python
"""
Build CamVid-GOSS (split camvid_goss_8_3: unknown = Car, Pedestrian, Bicyclist) from CamVid in
SegNet layout (<root>/{train,val,test}/ images, <root>/{train,val,test}annot/ labels 0-10,
11 = void) into <output>/camvid_goss_8_3/{train,val,test}. All images are kept; unknown pixels
are void (255) in the semantic maps.
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

GOSS_SPLIT = "camvid_goss_8_3"


@script_main
def main(argv=None):
    parser = base_parser(__doc__)
    parser.add_argument("--camvid-root", required=True, help="CamVid in SegNet layout")
    parser.add_argument(
        "--splits", nargs="+", default=["train", "val", "test"], choices=["train", "val", "test"]
    )
    args = parser.parse_args(argv)
    setup_logging()
    for split in args.splits:
        require_dirs("--camvid-root", args.camvid_root, (split, split + "annot"))
    summary = {}
    for split in args.splits:
        samples = paired_samples(
            os.path.join(args.camvid_root, split),
            os.path.join(args.camvid_root, split + "annot"),
            lambda stem: stem + ".png",
        )
        manifest = build_subset(args, GOSS_SPLIT, split, samples)
        summary[split] = {"kept": manifest["num_kept"], "dropped": manifest["num_dropped"]}
    print(json.dumps({GOSS_SPLIT: summary}))


if __name__ == "__main__":
    sys.exit(main())
