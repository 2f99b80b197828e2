#!/usr/bin/env python
"""
Build CamVid-GOSS (split camvid_goss_8_3: unknown = Car, Pedestrian, Bicyclist) from CamVid in
SegNet layout (<root>/{train,val,test}/ images, <root>/{train,val,test}annot/ labels 0-10,
11 = void) into <output>/camvid_goss_8_3/{train,val,test}. All images are kept; unknown pixels
are void (255) in the semantic maps.
"""

import json
import os

from goss.data.builder import build_split
from goss.data.builder_cli import base_parser, paired_samples, setup_logging
from goss.data.datasets.builtin_meta import split_metadata, split_spec

GOSS_SPLIT = "camvid_goss_8_3"


def main(argv=None):
    parser = base_parser(__doc__)
    parser.add_argument("--camvid-root", required=True, help="CamVid in SegNet layout")
    parser.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    parser.add_argument("--min-unknown-area", type=int, default=0)
    parser.add_argument("--image-mode", choices=("symlink", "copy"), default="symlink")
    args = parser.parse_args(argv)
    setup_logging()
    for split in args.splits:
        if split not in ("train", "val", "test"):
            parser.error(f"--splits: unknown split {split!r} (train, val, test)")
        for d in (split, split + "annot"):
            if not os.path.isdir(os.path.join(args.camvid_root, d)):
                parser.error(f"--camvid-root: {os.path.join(args.camvid_root, d)} not found")
    colors = split_metadata(GOSS_SPLIT)["stuff_colors"]
    summary = {}
    for split in args.splits:
        samples = paired_samples(
            os.path.join(args.camvid_root, split),
            os.path.join(args.camvid_root, split + "annot"),
            lambda stem: stem + ".png",
        )
        manifest = build_split(
            samples,
            split_spec(GOSS_SPLIT, split, args.min_unknown_area),
            os.path.join(args.output, GOSS_SPLIT, split),
            workers=args.workers,
            image_mode=args.image_mode,
            colors=colors,
            progress=not args.no_progress,
        )
        summary[split] = {"kept": manifest["num_kept"], "dropped": manifest["num_dropped"]}
    print(json.dumps({GOSS_SPLIT: summary}))


if __name__ == "__main__":
    main()
