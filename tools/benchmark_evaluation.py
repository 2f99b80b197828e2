#!/usr/bin/env python
"""
Benchmark of the GQ per-image statistics: images per second at 640x480 with ~30 GT and ~40
predicted segments (synthetic, seeded), for goss.evaluation.image_stats (joint histogram), a
panopticapi-style implementation (np.unique over packed GT/prediction labels) and the slow
per-segment reference (both in goss.utils.reference.gq_stats). Asserts that all three
give identical statistics. Prints one JSON line and writes it to output/benchmark_evaluation.json;
its "core" says which pixel pass image_stats used ("compiled": the goss._C op, "numpy": the
fallback when goss._C is not built).

  python tools/benchmark_evaluation.py [--images 8] [--repeats 5] [--reference-images 2]
      [--without-ext]    # as if goss._C were not built: image_stats' NumPy pixel pass
"""

import argparse
import os
import sys
import time

import numpy as np

from goss.evaluation.stats import image_stats, pixel_pass_backend
from goss.utils.json_line import print_json_line
from goss.utils.reference.gq_stats import panopticapi_style_stats, reference_stats
from goss.utils.reference.synthetic import random_pair


def _rate(fn, pairs, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for p in pairs:
            fn(*p, NUM_CATEGORIES)
        best = min(best, time.perf_counter() - t0)
    return len(pairs) / best


NUM_CATEGORIES = 12  # 11 known + unknown


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reference-images", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default=os.path.join("output", "benchmark_evaluation.json"))
    ap.add_argument(
        "--without-ext",
        action="store_true",
        help="block goss._C (as if it were not built) to time image_stats' NumPy fallback",
    )
    args = ap.parse_args()
    if args.without_ext:
        sys.modules["goss._C"] = None  # `import goss._C` now fails; nothing imported it yet
    rng = np.random.default_rng(args.seed)
    pairs = [
        random_pair(
            rng, h=480, w=640, num_known=NUM_CATEGORIES - 1, n_gt=30, n_pred=10, big_ids=True
        )
        for _ in range(args.images)
    ]
    for k, p in enumerate(pairs):
        fast = image_stats(*p, NUM_CATEGORIES)
        assert fast == panopticapi_style_stats(*p, NUM_CATEGORIES), f"image {k}: differs"
        if k < args.reference_images:
            assert fast == reference_stats(*p, NUM_CATEGORIES), f"image {k}: differs"
    fast = _rate(image_stats, pairs, args.repeats)
    papi = _rate(panopticapi_style_stats, pairs, args.repeats)
    ref = _rate(reference_stats, pairs[: args.reference_images], 1)
    result = {
        "benchmark": "gq_image_stats",
        "height": 480,
        "width": 640,
        "images": args.images,
        "gt_segments_mean": float(np.mean([len(p[1]) for p in pairs])),
        "pred_segments_mean": float(np.mean([len(p[3]) for p in pairs])),
        "images_per_s": round(fast, 2),
        "panopticapi_style_images_per_s": round(papi, 2),
        "reference_images_per_s": round(ref, 3),
        "speedup_vs_panopticapi_style": round(fast / papi, 2),
        "speedup_vs_reference": round(fast / ref, 1),
        "identical_stats": True,
        "threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "core": pixel_pass_backend(),  # image_stats' pixel pass: goss._C op or NumPy fallback
    }
    print_json_line(result, args.output)


if __name__ == "__main__":
    main()
