#!/usr/bin/env python
"""
Calibrate a trained GOSS model's post-processing on a validation split (never on the test split).

    python tools/calibrate_goss.py --config-file CFG [--dataset NAME] [--output DIR] \
        [--identifiers msp max_logit] [--clusterers super_bpd connected_components none] \
        MODEL.WEIGHTS model_final.pth [KEY VALUE ...]

The model runs once over the split; its logits and BPD fields are cached (in memory up to
``--max-cache-mb``, then under ``--cache-dir``). For every identifier x clusterer pair the
identification settings (MSP / MaxLogit threshold, N+1 beta), the clusterer's settings
(Super-BPD theta_a, theta_l, theta_s, s_o) and the minimum areas are searched by GQ
(``goss/engine/calibration.py``); with ``--partition-objective GQ_clu`` the Super-BPD thresholds
are chosen by the quality of the clustering branch's whole-image partition instead, and
``--field-sigmas`` adds the smoothing of the field before Super-BPD to that search,
``--seed-scopes`` the scope of the seeded clusterer's quantile to its search; ``--rounds``
repeats the search of the clusterer's settings and the others given the minimum areas until it
converges; ``--refinements N`` follows each grid of Super-BPD thresholds by N steps of a pattern
search between its values. It prints the sweep table, writes ``sweep_<pair>.csv``, and writes the
best settings of each pair as a config ``<identifier>_<clusterer>.yaml`` whose ``_BASE_`` is the
model's config, for ``tools/train_net.py --eval-only --config-file``; ``calibration.json`` lists
them with their GQ.
"""

import argparse
import csv
import json
import logging
import os
import sys

import torch
from tqdm import tqdm

import goss  # noqa: F401  (applies the Detectron2 shims, registers GOSS)
from detectron2.data import build_detection_test_loader
from detectron2.modeling import build_model
from detectron2.utils.logger import setup_logger
from goss.config import get_goss_cfg
from goss.data import GOSSDatasetMapper
from goss.data.goss_format import atomic_write_bytes
from goss.engine.calibration import (
    CLUSTERER_GRIDS,
    IDENTIFICATION_GRIDS,
    PARTITION_OBJECTIVES,
    MapCache,
    calibrate,
    check_pair,
    evaluate_settings,
    format_sweep,
    write_calibrated_config,
)
from goss.engine.checks import check_dataset_metadata, load_trained_weights
from goss.engine.errors import ToolError
from goss.evaluation.io import read_id_png
from goss.evaluation.report import json_safe
from goss.modeling.clustering import SeededComponentsClusterer

logger = logging.getLogger("goss.calibrate")


def get_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config-file", required=True, metavar="FILE", help="the model's config")
    p.add_argument("--dataset", help="calibration split (default: the config's DATASETS.TEST[0])")
    p.add_argument("--output", help="output folder (default: OUTPUT_DIR/calibration)")
    p.add_argument(
        "--identifiers",
        nargs="+",
        choices=sorted(IDENTIFICATION_GRIDS),
        help="identifiers to calibrate (default: the config's MODEL.GOSS.IDENTIFIER)",
    )
    p.add_argument(
        "--clusterers",
        nargs="+",
        choices=sorted(CLUSTERER_GRIDS),
        help="clusterers to calibrate (default: the config's MODEL.GOSS.UNKNOWN_CLUSTERING)",
    )
    p.add_argument(
        "--evaluate",
        nargs="+",
        default=[],
        metavar="DATASET",
        help="after calibrating, evaluate the config as given and every calibrated pair on these "
        "splits (one forward pass each; results under OUTPUT/eval/<dataset>/<row>/)",
    )
    p.add_argument(
        "--partition-objective",
        choices=PARTITION_OBJECTIVES,
        default="GQ",
        help="what chooses the Super-BPD thresholds of super_bpd and split_components: GQ (as "
        "every other setting) or GQ_clu, the quality of the clustering branch's whole-image "
        "partition (the other settings are then searched by GQ, given them)",
    )
    p.add_argument(
        "--field-sigmas",
        type=float,
        nargs="+",
        metavar="SIGMA",
        help="also search the Gaussian smoothing of the BPD field before Super-BPD "
        "(MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA, in output pixels; 0 = none) over these values, "
        "for super_bpd and split_components, by the partition objective",
    )
    p.add_argument(
        "--seed-scopes",
        nargs="+",
        choices=SeededComponentsClusterer.SCOPES,
        metavar="SCOPE",
        help="also search what the seeded_components clusterer's seed quantile is taken over "
        "(MODEL.GOSS.SEED_SCOPE: image, component) with its quantile",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        metavar="N",
        help="rounds of the coordinate-ascent search: after the first, the clusterer's, "
        "identification and minimum-area stages are searched again, given the others, until a "
        "round changes nothing or N rounds ran (default 1)",
    )
    p.add_argument(
        "--refinements",
        type=int,
        default=0,
        metavar="N",
        help="after each grid of Super-BPD thresholds (THETA_A, THETA_L, THETA_S), N steps of a "
        "pattern search around its best: each tries the best's values and half a step either "
        "side, within the grid's range, the step halving where a value stays (default 0: none)",
    )
    p.add_argument("--max-cache-mb", type=int, default=4096, help="in-memory cache bound (MiB)")
    p.add_argument("--cache-dir", help="folder for cached maps beyond --max-cache-mb")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides, KEY VALUE pairs")
    return p


def _check_args(args, cfg):
    if args.max_cache_mb < 1:
        raise SystemExit(f"--max-cache-mb must be >= 1, got {args.max_cache_mb}")
    if args.rounds < 1:
        raise SystemExit(f"--rounds must be >= 1, got {args.rounds}")
    if args.refinements < 0:
        raise SystemExit(f"--refinements must be >= 0, got {args.refinements}")
    from detectron2.data import DatasetCatalog

    registered = set(DatasetCatalog.list())
    for name in ([args.dataset] if args.dataset else []) + args.evaluate:
        if name not in registered:
            raise SystemExit(
                f"{name!r} is not a registered dataset (--dataset/--evaluate; put config "
                "overrides after the options, or end --evaluate's list with --)"
            )
    if len(args.opts) % 2:
        raise SystemExit(f"config overrides must be KEY VALUE pairs, got {args.opts}")


def load_model(cfg):
    """The trained model of ``cfg.MODEL.WEIGHTS`` (an untrained one is refused)."""
    model = build_model(cfg)
    load_trained_weights(model, cfg.MODEL.WEIGHTS)
    return model.eval()


def cache_maps(model, cfg, dataset, cache, progress=True):
    """Run the model over ``dataset`` once and cache its maps and GT."""
    loader = build_detection_test_loader(cfg, dataset, mapper=GOSSDatasetMapper(cfg, False))
    with torch.no_grad():
        for inputs in tqdm(loader, desc=f"model on {dataset}", disable=not progress, mininterval=2):
            for inp, (lg, fd, size) in zip(inputs, model.predict_maps(inputs)):
                gt = read_id_png(inp["pan_seg_file_name"])
                if gt.shape != tuple(size):
                    raise ValueError(
                        f"{inp['pan_seg_file_name']}: GT {gt.shape} and image {tuple(size)} differ"
                    )
                cache.add(lg, fd, size, gt, inp, image=inp["image"])
    logger.info(
        "cached the maps of %d images (%.0f MiB in memory)", len(cache), cache.nbytes / 2**20
    )


def _write_sweep_csv(path, sweep):
    keys = sorted({k for r in sweep for k in r["settings"]})
    metrics = ["GQ", "GQ_kn", "GQ_uk", "SQ_uk", "RQ_uk"]
    metrics += ["GQ_clu"] if any("GQ_clu" in r for r in sweep) else []
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stage", *keys, *metrics])
        for r in sweep:
            w.writerow(
                [r["stage"], *(r["settings"].get(k, "") for k in keys)]
                + [r.get(m, "") for m in metrics]
            )


def evaluate_rows(args, cfg, model, dataset, summary, out_dir):
    """The config as given and each calibrated pair, evaluated on ``dataset`` from one pass."""
    rows = {"as configured": {}}
    rows.update({pair: best["settings"] for pair, best in summary["best"].items()})
    cache = MapCache(args.max_cache_mb << 20, args.cache_dir)
    results = {}
    try:
        cache_maps(model, cfg, dataset, cache, progress=not args.no_progress)
        for row, settings in rows.items():
            folder = os.path.join(out_dir, "eval", dataset, row.replace(" ", "_").replace("/", "_"))
            evaluate_settings(cfg, cache, settings, dataset, folder, progress=not args.no_progress)
            results[row] = os.path.abspath(os.path.join(folder, "gq_results.json"))
            logger.info("evaluated %s on %s: %s", row, dataset, results[row])
    finally:
        cache.close()
    return results


def main(argv=None):
    parser = get_parser()
    args = parser.parse_args(argv)
    if args.opts[:1] == ["--"]:  # "--" ends a list option such as --evaluate
        args.opts = args.opts[1:]
    try:
        return run(args)
    except ToolError as e:
        parser.exit(2, f"calibrate_goss.py: error: {e}\n")


def run(args):
    setup_logger(name="goss")
    setup_logger(name="detectron2", abbrev_name="d2")
    cfg = get_goss_cfg(args.config_file, args.opts)
    _check_args(args, cfg)
    dataset = args.dataset or (cfg.DATASETS.TEST[0] if cfg.DATASETS.TEST else None)
    if not dataset:
        raise SystemExit("give --dataset (the config has no DATASETS.TEST)")
    if dataset.endswith("_test"):
        raise SystemExit(
            f"--dataset {dataset}: calibrate on a validation split, not the test split"
        )
    check_dataset_metadata(cfg, [dataset, *args.evaluate])
    out_dir = args.output or os.path.join(cfg.OUTPUT_DIR, "calibration")
    os.makedirs(out_dir, exist_ok=True)
    identifiers = args.identifiers or [cfg.MODEL.GOSS.IDENTIFIER]
    clusterers = args.clusterers or [cfg.MODEL.GOSS.UNKNOWN_CLUSTERING]
    for ident in identifiers:
        for clu in clusterers:
            try:
                check_pair(cfg, ident, clu)
            except (KeyError, ValueError) as e:
                raise SystemExit(f"--identifiers {ident} --clusterers {clu}: {e}")

    cache = MapCache(args.max_cache_mb << 20, args.cache_dir)
    summary = {"dataset": dataset, "config": args.config_file, "weights": cfg.MODEL.WEIGHTS}
    summary["partition_objective"] = args.partition_objective
    summary["field_sigmas"] = args.field_sigmas
    summary["rounds"] = args.rounds
    summary["seed_scopes"] = args.seed_scopes
    summary["refinements"] = args.refinements
    summary["configs"], summary["best"] = {}, {}
    model = load_model(cfg)
    try:
        cache_maps(model, cfg, dataset, cache, progress=not args.no_progress)
        for ident in identifiers:
            for clu in clusterers:
                best, sweep = calibrate(
                    cfg,
                    cache,
                    ident,
                    clu,
                    progress=not args.no_progress,
                    partition_objective=args.partition_objective,
                    field_sigmas=args.field_sigmas,
                    rounds=args.rounds,
                    seed_scopes=args.seed_scopes,
                    refinements=args.refinements,
                )
                pair = f"{ident}_{clu}"
                logger.info("sweep of %s on %s:\n%s", pair, dataset, format_sweep(sweep))
                _write_sweep_csv(os.path.join(out_dir, f"sweep_{pair}.csv"), sweep)
                calibrated = cfg.clone()
                calibrated.defrost()
                calibrated.merge_from_list([v for kv in best["settings"].items() for v in kv])
                keys = list(best["settings"]) + ["MODEL.WEIGHTS"] + list(args.opts[::2])
                path = os.path.join(out_dir, f"{pair}.yaml")
                header = (
                    f"Calibrated by tools/calibrate_goss.py on {dataset} ({len(cache)} images): "
                    f"GQ {best['GQ']:.2f}, GQ_kn {best['GQ_kn']:.2f}, GQ_uk {best['GQ_uk']:.2f}.\n"
                    f"Weights: {cfg.MODEL.WEIGHTS}"
                )
                write_calibrated_config(
                    path, args.config_file, calibrated, dict.fromkeys(keys), header
                )
                summary["configs"][f"{ident}/{clu}"] = os.path.abspath(path)
                summary["best"][f"{ident}/{clu}"] = best
                logger.info("wrote %s (GQ %.2f on %s)", path, best["GQ"], dataset)
    finally:
        cache.close()
    summary["evaluation"] = {}
    for name in args.evaluate:
        summary["evaluation"][name] = evaluate_rows(args, cfg, model, name, summary, out_dir)
    atomic_write_bytes(
        os.path.join(out_dir, "calibration.json"),
        json.dumps(json_safe(summary), indent=1, allow_nan=False).encode(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
