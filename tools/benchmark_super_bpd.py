#!/usr/bin/env python
"""
Benchmark of the Super-BPD post-processing (``goss.layers.super_bpd``) on CPU.

Fields come from real CamVid labels: each ``trainannot`` PNG is resized (nearest) to the target
size, its exact BPD field is computed (``goss.data.bpd_targets``) and Gaussian-blurred. Reports the
median milliseconds per image with one thread and with all threads, the time of
``scipy.ndimage.label`` on a mask of the same size as a yardstick, and the speed-up over the
per-pixel pure-Python reference (``goss.utils.reference.super_bpd``) on 333x500: the median
over the images of reference ms / op ms (single thread), both timed on the same image. Prints one
JSON line and writes it to ``output/benchmark_super_bpd.json``.

    python tools/benchmark_super_bpd.py --camvid-root CAMVID   # the folder holding trainannot/
"""

import argparse
import logging
import math
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy import ndimage

from goss.data.bpd_targets import compute_bpd_targets
from goss.layers import super_bpd
from goss.utils.json_line import print_json_line
from goss.utils.reference.super_bpd import reference_super_bpd

logger = logging.getLogger("benchmark_super_bpd")
SIZES = [(333, 500), (512, 1024), (1024, 2048)]


def load_fields(camvid_root, size, num_images, blur_sigma):
    """Angles float32 [H, W] and a class mask of the same size, for the first num_images labels."""
    files = sorted((Path(camvid_root) / "trainannot").glob("*.png"))[:num_images]
    if not files:
        raise FileNotFoundError(
            f"--camvid-root {camvid_root}: no label PNGs in {Path(camvid_root) / 'trainannot'}"
        )
    out = []
    for f in files:
        sem = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        if sem is None:
            raise OSError(f"cannot read {f}")
        sem = cv2.resize(sem, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
        field, _ = compute_bpd_targets(sem, ignore_label=11)
        field = np.stack([cv2.GaussianBlur(c, (0, 0), blur_sigma) for c in field])
        angles = np.arctan2(field[1], field[0]).astype(np.float32)
        angles[angles < 0] += np.float32(2 * math.pi)
        angles[angles >= np.float32(2 * math.pi)] = 0
        mask = sem == np.bincount(sem.ravel()).argmax()
        out.append((torch.from_numpy(angles), mask))
    return out


def median_ms(fn, items, repeats):
    times = []
    for item in items:
        fn(item)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            fn(item)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def python_reference_speedup(items, repeats):
    """Reference ms per image and the median over images of (reference ms / op ms), both timed on
    the same image, the op single-threaded."""
    torch.set_num_threads(1)
    ref_ms, ratios = [], []
    for angles, _ in items:
        start = time.perf_counter()
        reference_super_bpd(angles.numpy())
        ref_ms.append((time.perf_counter() - start) * 1000)
        ratios.append(ref_ms[-1] / median_ms(super_bpd, [angles], repeats))
    return statistics.median(ref_ms), statistics.median(ratios)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--camvid-root",
        required=True,
        help="CamVid in SegNet layout (as for datasets/prepare_camvid_goss.py): uses trainannot/",
    )
    parser.add_argument("--num-images", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--blur-sigma", type=float, default=2.0)
    parser.add_argument("--output", default=os.path.join("output", "benchmark_super_bpd.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    all_threads = torch.get_num_threads()
    result = {"device": "cpu", "all_threads": all_threads, "num_images": args.num_images}
    for size in SIZES:
        logger.info("fields %dx%d", *size)
        items = load_fields(args.camvid_root, size, args.num_images, args.blur_sigma)
        row = {}
        for name, threads in (("single_thread_ms", 1), ("all_threads_ms", all_threads)):
            torch.set_num_threads(threads)
            row[name] = median_ms(lambda it: super_bpd(it[0]), items, args.repeats)
        torch.set_num_threads(all_threads)
        row["scipy_label_ms"] = median_ms(lambda it: ndimage.label(it[1]), items, args.repeats)
        row["single_thread_over_label"] = row["single_thread_ms"] / row["scipy_label_ms"]
        row["regions"] = statistics.median(len(torch.unique(super_bpd(it[0]))) for it in items)
        result[f"{size[0]}x{size[1]}"] = {k: round(v, 3) for k, v in row.items()}
        if size == (333, 500):
            ref_ms, speedup = python_reference_speedup(items, args.repeats)
            torch.set_num_threads(all_threads)
            result["python_reference_ms_333x500"] = round(ref_ms, 1)
            result["speedup_vs_python_333x500"] = round(speedup, 1)
    print_json_line(result, args.output)


if __name__ == "__main__":
    main()
