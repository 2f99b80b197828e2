#!/usr/bin/env python
"""
Benchmark of the GOSS training step: seconds per iteration of one config under several
precision / memory-format variants, measured in one run: ``--rounds`` rounds, each training every
variant in turn from a fresh model for ``--warmup`` + ``--iters`` steps (one model at a time: two
models alive at once slow each other down through the caches), so that the ratios hold even when
the machine's speed drifts. The batches are read once beforehand (the mapper's cost is reported
on its own, as ``data_s_per_batch``), so a step is the forward pass, the losses, the backward pass
and the optimizer step of the trainer the config selects (``CPUAMPTrainer`` for
``SOLVER.AMP.ENABLED`` on the CPU). Prints one JSON line and writes it to ``--output`` (default
``output/benchmark_training.json``).

  python tools/benchmark_training.py \\
      --config-file projects/GOSS/configs/goss_shapes/gst_mobilenet_v2.yaml \\
      [--rounds 3] [--iters 8] [--variants fp32,channels_last,bf16,channels_last+bf16] \\
      [--output FILE.json] [KEY VALUE ...]

Variants: ``fp32`` (contiguous float32), ``channels_last`` (``MODEL.GOSS.CHANNELS_LAST``),
``bf16`` (``SOLVER.AMP.ENABLED``), ``channels_last+bf16`` (both). ``ratio`` is each variant's
steps per second over the first variant's; medians over all timed steps of all rounds.
"""

import argparse
import gc
import itertools
import logging
import os
import statistics
import sys
import time

import torch

import goss  # noqa: F401  (applies the Detectron2 shims, registers GOSS)
from detectron2.data import build_detection_train_loader
from detectron2.engine import SimpleTrainer
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage
from goss.config import get_goss_cfg
from goss.data import GOSSDatasetMapper
from goss.engine.optimizer import build_optimizer
from goss.engine.train_loop import cpu_amp_trainer, wants_cpu_amp
from goss.utils.json_line import print_json_line

VARIANTS = {
    "fp32": ["MODEL.GOSS.CHANNELS_LAST", "False", "SOLVER.AMP.ENABLED", "False"],
    "channels_last": ["MODEL.GOSS.CHANNELS_LAST", "True", "SOLVER.AMP.ENABLED", "False"],
    "bf16": ["MODEL.GOSS.CHANNELS_LAST", "False", "SOLVER.AMP.ENABLED", "True"],
    "channels_last+bf16": ["MODEL.GOSS.CHANNELS_LAST", "True", "SOLVER.AMP.ENABLED", "True"],
}


def get_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config-file", required=True, metavar="FILE")
    p.add_argument("--rounds", type=int, default=3, help="rounds over the variants (default 3)")
    p.add_argument("--iters", type=int, default=8, help="timed steps per round (default 8)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per round (default 3)")
    p.add_argument("--batches", type=int, default=4, help="distinct batches, cycled (default 4)")
    p.add_argument(
        "--variants",
        default="fp32,channels_last,bf16,channels_last+bf16",
        help=f"comma-separated, from {', '.join(VARIANTS)}; the first is the ratios' base",
    )
    p.add_argument(
        "--output",
        default=os.path.join("output", "benchmark_training.json"),
        metavar="FILE",
        help="where the JSON line is also written (default output/benchmark_training.json)",
    )
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides KEY VALUE ...")
    return p


def _trainer(cfg, batches):
    torch.manual_seed(0)
    model = build_model(cfg)
    model.train()
    trainer = SimpleTrainer(model, itertools.cycle(batches), build_optimizer(cfg, model))
    return cpu_amp_trainer(trainer) if wants_cpu_amp(cfg) else trainer


def main(argv=None):
    args = get_parser().parse_args(argv)
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        get_parser().error(f"--variants: unknown {unknown}; choose from {list(VARIANTS)}")
    logging.basicConfig(level=logging.WARNING)
    cfgs = {v: get_goss_cfg(args.config_file, [*args.opts, *VARIANTS[v]]) for v in variants}
    base = cfgs[variants[0]]
    # the mapper in this process (no workers), so that data_s_per_batch is its own cost
    loader_cfg = get_goss_cfg(args.config_file, [*args.opts, "DATALOADER.NUM_WORKERS", "0"])
    mapper = GOSSDatasetMapper(loader_cfg, is_train=True)
    loader = iter(build_detection_train_loader(loader_cfg, mapper=mapper))
    t0 = time.perf_counter()
    batches = [next(loader) for _ in range(args.batches)]
    data_s = (time.perf_counter() - t0) / args.batches
    times = {v: [] for v in variants}
    with EventStorage(0):
        for _ in range(args.rounds):
            for v in variants:
                trainer = _trainer(cfgs[v], batches)
                for i in range(args.warmup + args.iters):
                    t = time.perf_counter()
                    trainer.run_step()
                    if i >= args.warmup:
                        times[v].append(time.perf_counter() - t)
                del trainer
                gc.collect()
    median = {v: statistics.median(ts) for v, ts in times.items()}
    result = {
        "config": args.config_file,
        "opts": args.opts,
        "batch_size": base.SOLVER.IMS_PER_BATCH,
        "rounds": args.rounds,
        "iters": args.iters,
        "threads": torch.get_num_threads(),
        "data_s_per_batch": round(data_s, 4),
        "s_per_iter": {v: round(m, 4) for v, m in median.items()},
        "ratio": {v: round(median[variants[0]] / m, 3) for v, m in median.items()},
    }
    print_json_line(result, args.output)
    return result


if __name__ == "__main__":
    sys.exit(main() and 0)
