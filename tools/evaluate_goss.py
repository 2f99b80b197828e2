#!/usr/bin/env python
"""
Evaluate GOSS predictions of any method against GOSS ground truth (no model needed).

Both sides are COCO panoptic format: RGB id PNGs (id = R + 256 G + 256^2 B, id 0 = void) and a
JSON with ``images[].id`` and ``annotations[].{image_id, file_name, segments_info[].{id,
category_id}}``. Category ids are train ids: known ``0..N-1``, unknown ``N``. Prediction
annotations are matched to GT annotations by ``image_id``; every GT image needs a prediction.

Pixel-score metrics (AUROC, AUPR, FPR95; unknown pixels positive, void excluded) are computed when
``--pred-scores DIR`` is given: one ``<stem>.npy`` float [H, W] map per image, higher = more
unknown, ``<stem>`` being the stem of the prediction annotation's ``file_name``. GQ_clu is
computed when ``--pred-clusters DIR`` is given: one ``<stem>.npy`` integer [H, W] whole-image
partition per image (negative = void).

Example:
  python tools/evaluate_goss.py --gt-json gt.json --gt-dir gt_png --pred-json pred.json \\
      --pred-dir pred_png --num-known 11 --output results.json
"""

import argparse
import json
import logging
import os
import sys

import numpy as np
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from goss.evaluation.accumulator import GQAccumulator  # noqa: E402
from goss.evaluation.io import load_panoptic_json, read_id_png  # noqa: E402
from goss.evaluation.report import format_tables, write_results  # noqa: E402

logger = logging.getLogger("evaluate_goss")


def get_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--gt-json", required=True, help="GT COCO panoptic JSON")
    p.add_argument("--gt-dir", required=True, help="folder of GT panoptic PNGs")
    p.add_argument("--pred-json", required=True, help="prediction COCO panoptic JSON")
    p.add_argument("--pred-dir", required=True, help="folder of predicted panoptic PNGs")
    p.add_argument("--num-known", type=int, required=True, help="N, the number of known classes")
    p.add_argument("--output", help="results JSON to write (per-class/per-image CSVs beside it)")
    p.add_argument("--pred-scores", help="folder of <stem>.npy unknown-score maps (OSS metrics)")
    p.add_argument("--pred-clusters", help="folder of <stem>.npy whole-image partitions (GQ_clu)")
    p.add_argument("--lam", type=float, default=0.5, help="GQ = lam*GQ_kn + (1-lam)*GQ_uk")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (0 = off)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    return p


def _load_npy(folder, file_name, what):
    path = os.path.join(folder, os.path.splitext(os.path.basename(file_name))[0] + ".npy")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} map not found: {path}")
    return np.load(path)


def evaluate(args):
    if args.num_known < 1:
        raise ValueError(f"--num-known must be >= 1, got {args.num_known}")
    for name in ("gt_dir", "pred_dir", "pred_scores", "pred_clusters"):
        d = getattr(args, name)
        if d is not None and not os.path.isdir(d):
            raise FileNotFoundError(f"--{name.replace('_', '-')}: no such folder {d}")
    gt = load_panoptic_json(args.gt_json)
    pred = load_panoptic_json(args.pred_json)
    missing = [i for i in gt if i not in pred]
    if missing:
        raise ValueError(f"{args.pred_json}: no prediction for image_id(s) {missing[:10]}")
    extra = [i for i in pred if i not in gt]
    if extra:
        logger.warning("%d predictions have no GT image and are ignored", len(extra))
    acc = GQAccumulator(args.num_known)
    for image_id, g in tqdm(gt.items(), desc="GQ", disable=len(gt) < 50, mininterval=2):
        p = pred[image_id]
        where = f"image_id {image_id!r} ({g['file_name']})"
        gt_ids = read_id_png(os.path.join(args.gt_dir, g["file_name"]))
        pred_ids = read_id_png(os.path.join(args.pred_dir, p["file_name"]))
        score = clusters = None
        if args.pred_scores:
            score = _load_npy(args.pred_scores, p["file_name"], "score")
        if args.pred_clusters:
            clusters = _load_npy(args.pred_clusters, p["file_name"], "cluster")
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


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = get_parser().parse_args(argv)
    try:
        acc, results, per_class = evaluate(args)
    except (ValueError, FileNotFoundError) as e:
        logger.error("error: %s", e)
        return 2
    summary, table = format_tables(results, per_class)
    print(table)
    print(summary)
    if args.output:
        out_dir = os.path.dirname(os.path.abspath(args.output))
        write_results(
            out_dir,
            results,
            per_class,
            acc.per_image_rows(),
            json_name=os.path.basename(args.output),
        )
        logger.info("wrote %s", args.output)
    else:
        print(json.dumps({k: v for k, v in results.items()}, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
