#!/usr/bin/env python
"""
Evaluate GOSS predictions of any method against GOSS ground truth (no model needed).

Both sides are COCO panoptic format: RGB id PNGs (id = R + 256 G + 256^2 B, id 0 = void) and a
JSON with ``images[].id`` and ``annotations[].{image_id, file_name, segments_info[].{id,
category_id}}``. Category ids are train ids: known ``0..N-1``, unknown ``N``; the GT JSON's
``categories`` (and the prediction JSON's, if it has them) must be exactly ``0..N``. Prediction
annotations are matched to GT annotations by ``image_id``; every GT image needs a prediction.
Bad input gives a one-line error naming the argument or file (and field) and exit code 2; the
arguments, both JSONs and ``--output`` are checked before any image is read.

Pixel-score metrics (AUROC, AUPR, FPR95; unknown pixels positive, void excluded) are computed when
``--pred-scores DIR`` is given: one ``<stem>.npy`` float [H, W] map per image, higher = more
unknown, ``<stem>`` being the stem of the prediction annotation's ``file_name``. GQ_clu is
computed when ``--pred-clusters DIR`` is given: one ``<stem>.npy`` integer [H, W] whole-image
partition per image (negative = void).

It also prints the SegmentMeIfYouCan component metrics of the unknown class
(``goss/evaluation/components.py``): sIoU per GT component, PPV per predicted component and the
mean F1 over tau = 0.25, ..., 0.75, for the prediction's unknown segments and, with
``--smiyc-threshold T`` (and ``--pred-scores``), for the connected components of score > T.

Besides the GQ tables it prints the diagnostic table (``goss/evaluation/diagnostics.py``): GQ_uk
of the GT unknown mask (oracle identification) as connected components and as one segment, of
the predicted unknown mask as connected components and, with ``--pred-clusters``, of the GT
unknown mask cut by those partitions; and GQ_uk / recall by GT segment size.

Example:
  python tools/evaluate_goss.py --gt-json gt.json --gt-dir gt_png --pred-json pred.json \\
      --pred-dir pred_png --num-known 11 --output results.json
"""

import argparse
import json
import logging
import math
import os
import sys

from tqdm import tqdm

from goss.evaluation.accumulator import GQAccumulator
from goss.evaluation.components import SMIYC_MIN_GT_SIZE
from goss.evaluation.io import (
    annotations_by_image,
    check_categories,
    load_npy_map,
    read_id_png,
    read_panoptic_json,
)
from goss.evaluation.report import (
    format_components,
    format_diagnostics,
    format_tables,
    json_safe,
    write_results,
)

logger = logging.getLogger("evaluate_goss")

# bounds of the arguments, checked before anything is allocated: the statistics hold an
# [N + 1, N + 2] int64 confusion matrix (134 MB at N = 4095)
MAX_NUM_KNOWN = 4095
MAX_BOOTSTRAP = 100_000


def _int_in(low, high):
    """argparse type: an integer in ``[low, high]``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
        return value

    return parse


def _fraction(text):
    """argparse type: a float in ``[0, 1]``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def get_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--gt-json", required=True, help="GT COCO panoptic JSON (with categories)")
    p.add_argument("--gt-dir", required=True, help="folder of GT panoptic PNGs")
    p.add_argument("--pred-json", required=True, help="prediction COCO panoptic JSON")
    p.add_argument("--pred-dir", required=True, help="folder of predicted panoptic PNGs")
    p.add_argument(
        "--num-known",
        type=_int_in(1, MAX_NUM_KNOWN),
        required=True,
        help="N, the number of known classes (must match the GT JSON's categories 0..N)",
    )
    p.add_argument("--output", help="results JSON to write (per-class/per-image CSVs beside it)")
    p.add_argument("--pred-scores", help="folder of <stem>.npy unknown-score maps (OSS metrics)")
    p.add_argument("--pred-clusters", help="folder of <stem>.npy whole-image partitions (GQ_clu)")
    p.add_argument(
        "--smiyc-min-size",
        type=_int_in(0, 2**31 - 1),
        default=SMIYC_MIN_GT_SIZE,
        help="GT unknown components with fewer pixels are void for the SMIYC component metrics "
        f"(default {SMIYC_MIN_GT_SIZE}, SMIYC's anomaly track)",
    )
    p.add_argument(
        "--smiyc-min-pred-size",
        type=_int_in(0, 2**31 - 1),
        default=0,
        help="predicted unknown components with fewer pixels are dropped (SMIYC component metrics)",
    )
    p.add_argument(
        "--smiyc-threshold",
        type=float,
        help="also score the connected components of unknown score > this (needs --pred-scores)",
    )
    p.add_argument("--lam", type=_fraction, default=0.5, help="GQ = lam*GQ_kn + (1-lam)*GQ_uk")
    p.add_argument(
        "--bootstrap",
        type=_int_in(0, MAX_BOOTSTRAP),
        default=1000,
        help=f"bootstrap replicates (0 = off, at most {MAX_BOOTSTRAP})",
    )
    p.add_argument("--seed", type=_int_in(0, 2**63 - 1), default=0, help="bootstrap seed")
    return p


def check_output(path):
    """
    Fail before the work starts if the results JSON ``path`` could not be written: it names a
    directory, or its nearest existing parent is not a writable directory.
    """
    if not path:
        raise ValueError("--output: empty path")
    if os.path.isdir(path):
        raise ValueError(
            f"--output {path} is a directory; name the results JSON, e.g. "
            f"{os.path.join(path, 'results.json')}"
        )
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise ValueError(f"--output {path}: file is not writable")
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"--output {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--output {path}: cannot write in {parent}")


def load_annotations(args):
    """
    The GT and prediction annotations (``image_id -> annotation``), checked against
    ``--num-known``: the GT JSON's categories (required) and the prediction JSON's (if any)
    must be train ids ``0..N``, every ``segments_info`` well-formed with categories in ``0..N``.
    """
    n = args.num_known
    gt_data = read_panoptic_json(args.gt_json)
    if not gt_data.get("categories"):
        raise ValueError(
            f"{args.gt_json}: no 'categories' list, needed to check --num-known "
            "(train ids 0..N-1 known, N unknown)"
        )
    check_categories(gt_data["categories"], n, args.gt_json, option="--num-known")
    gt = annotations_by_image(gt_data, args.gt_json, n + 1)
    if not gt:
        raise ValueError(f"{args.gt_json}: no annotations (empty ground truth)")
    pred_data = read_panoptic_json(args.pred_json)
    if pred_data.get("categories"):
        check_categories(pred_data["categories"], n, args.pred_json, option="--num-known")
    pred = annotations_by_image(pred_data, args.pred_json, n + 1)
    missing = [i for i in gt if i not in pred]
    if missing:
        raise ValueError(f"{args.pred_json}: no prediction for image_id(s) {missing[:10]}")
    extra = [i for i in pred if i not in gt]
    if extra:
        logger.warning("%d predictions have no GT image and are ignored", len(extra))
    return gt, pred


def _npy_path(folder, file_name):
    return os.path.join(folder, os.path.splitext(os.path.basename(file_name))[0] + ".npy")


def evaluate(args):
    for name in ("gt_dir", "pred_dir", "pred_scores", "pred_clusters"):
        d = getattr(args, name)
        if d is not None and not os.path.isdir(d):
            raise FileNotFoundError(f"--{name.replace('_', '-')}: no such folder {d}")
    if args.smiyc_threshold is not None and not args.pred_scores:
        raise ValueError("--smiyc-threshold needs --pred-scores (the unknown score maps)")
    if args.smiyc_threshold is not None and not math.isfinite(args.smiyc_threshold):
        raise ValueError(f"--smiyc-threshold must be a finite number, got {args.smiyc_threshold}")
    if args.output is not None:
        check_output(args.output)
    gt, pred = load_annotations(args)
    acc = GQAccumulator(
        args.num_known,
        smiyc_min_gt_size=args.smiyc_min_size,
        smiyc_min_pred_size=args.smiyc_min_pred_size,
        smiyc_score_threshold=args.smiyc_threshold,
    )
    for image_id, g in tqdm(gt.items(), desc="GQ", disable=len(gt) < 50, mininterval=2):
        p = pred[image_id]
        where = f"image_id {image_id!r} ({g['file_name']})"
        gt_ids = read_id_png(os.path.join(args.gt_dir, g["file_name"]))
        pred_ids = read_id_png(os.path.join(args.pred_dir, p["file_name"]))
        score = clusters = None
        if args.pred_scores:
            path = _npy_path(args.pred_scores, p["file_name"])
            score = load_npy_map(path, gt_ids.shape, "score map")
        if args.pred_clusters:
            path = _npy_path(args.pred_clusters, p["file_name"])
            clusters = load_npy_map(path, gt_ids.shape, "cluster map", integer=True)
        acc.add_image(
            image_id,
            gt_ids,
            g["segments_info"],
            pred_ids,
            p["segments_info"],
            unknown_score=score,
            clusters=clusters,
            where=where,
        )
    results, per_class = acc.summarize(args.lam, args.bootstrap, args.seed)
    return acc, results, per_class


def _write(args, acc, results, per_class):
    """Write the results files; returns False (after logging why) if that failed."""
    try:
        write_results(
            os.path.dirname(os.path.abspath(args.output)),
            results,
            per_class,
            acc.per_image_rows(),
            json_name=os.path.basename(args.output),
        )
    except OSError as e:
        logger.error("error: cannot write %s: %s; the results follow on stdout", args.output, e)
        return False
    logger.info("wrote %s", args.output)
    return True


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = get_parser().parse_args(argv)
    try:
        acc, results, per_class = evaluate(args)
    except (ValueError, OSError) as e:
        logger.error("error: %s", e)
        return 2
    summary, table = format_tables(results, per_class)
    print(table)
    print(summary)
    print(format_components(results))
    print(format_diagnostics(results))
    if args.output and _write(args, acc, results, per_class):
        return 0
    print(json.dumps(json_safe(results), allow_nan=False))  # strict JSON: NaN -> null
    return 2 if args.output else 0


if __name__ == "__main__":
    sys.exit(main())
