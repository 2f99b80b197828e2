#!/usr/bin/env python
"""Generate the synthetic goss_shapes dataset into <output>/goss_shapes/{train,val}."""

import json
import sys

from goss.data.builder_cli import base_parser, script_main, setup_logging
from goss.data.shapes import DEFAULTS, build_goss_shapes


@script_main
def main(argv=None):
    parser = base_parser(__doc__, real_data=False)
    parser.add_argument("--num-train", type=int, default=DEFAULTS["num_train"])
    parser.add_argument("--num-val", type=int, default=DEFAULTS["num_val"])
    parser.add_argument("--image-size", type=int, default=DEFAULTS["image_size"])
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    args = parser.parse_args(argv)
    setup_logging()
    manifests = build_goss_shapes(
        args.output,
        num_train=args.num_train,
        num_val=args.num_val,
        image_size=args.image_size,
        seed=args.seed,
        workers=args.workers,
        progress=not args.no_progress,
    )
    summary = {
        s: {"kept": m["num_kept"], "dropped": m["num_dropped"]} for s, m in manifests.items()
    }
    print(json.dumps({"goss_shapes": summary}))


if __name__ == "__main__":
    sys.exit(main())
