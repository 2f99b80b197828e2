#!/usr/bin/env python
"""
The reproducible real-image experiment: build CamVid-GOSS, train with the MobileNetV2 backbone
the N-model, GST (N + CL), an N+1 model (class N from void only), the same with outlier exposure
(N+1-OE; at full resolution N+1-OE-full, with image-textured outliers N+1-OE-image-full, and that
with the paper's BPD loss balance N+1-OE-image-full-bpd, with both kinds of textures
N+1-OE-mixed-full, that with many small outliers N+1-OE-small-full and with class N learnt from
the outliers alone N+1-OE-mixed-full-novoid; the -flip rows evaluate those weights with
test-time augmentation, the -ms rows with a second view at 1.5 times the size, -ms3 also a third
at twice the size, -clu also calibrates the Super-BPD thresholds by GQ_clu, -ref searches them
between the values of their grid too, -r3 and -scope add rounds and the seed scope to the search,
and N+1-OE-mixed-full-novoid-flip and -ms also the seeded_components clusterer), the N-model +
DML and GST with the DFC clustering branch; calibrate each on the validation split (its
identifiers x clusterers, see BENCHMARKS), evaluate every calibrated row (with the oracle rows of
the diagnostic evaluation) on val and, when built, test, and write the results file with the
real-image goals. ``--models`` reruns some models and keeps the other rows of the results file.

    python tools/run_experiment.py --camvid-root DIR --output output/camvid_experiment
    python tools/run_experiment.py --camvid-root DIR --output OUT --full    # on a GPU

Stages run in order and print one progress line each. A stage that finished with the same
settings (its record ``<output>/stages/<name>.json``) is not redone, so rerunning the same command
resumes an interrupted experiment; an interrupted training resumes from its last checkpoint.
``--benchmark goss_shapes --schedule tiny`` runs the same pipeline on the synthetic data in a
few minutes (the tests use it).
"""

import argparse
import json
import logging
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from goss.data.goss_format import atomic_write_bytes  # noqa: E402
from goss.evaluation.report import json_safe  # noqa: E402

logger = logging.getLogger("goss.experiment")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join("projects", "GOSS", "configs")
# the identifiers calibrated for an N-model; a benchmark's "identifiers" names others per model
IDENTIFIERS = ("msp", "max_logit", "energy")
# the clusterers calibrated for a model; a benchmark's "clusterers" names others per model
# (felzenszwalb, at about 0.2 s per image and setting on the CPU, only where named)
CLUSTERERS = ("split_components", "connected_components")

# Half resolution on the CPU: 2000 iterations take about 11-15 minutes per model on 2 cores.
_CAMVID_CPU = [
    "INPUT.MIN_SIZE_TRAIN", "(144, 162, 180, 198, 216, 234, 252, 270)",
    "INPUT.MAX_SIZE_TRAIN", "720",
    "INPUT.CROP.SIZE", "(176, 176)",
    "INPUT.MIN_SIZE_TEST", "180",
    "INPUT.MAX_SIZE_TEST", "240",
    "SOLVER.MAX_ITER", "2000",
    "SOLVER.CHECKPOINT_PERIOD", "500",
]  # fmt: skip
# CamVid's full resolution (Base-CamVidGOSS.yaml's own scales, crops and test size)
_CAMVID_FULL_RES_TRAIN = [
    "INPUT.MIN_SIZE_TRAIN", "(180, 216, 252, 288, 324, 360, 396, 432, 468, 504, 540)",
    "INPUT.MAX_SIZE_TRAIN", "1440",
    "INPUT.CROP.SIZE", "(352, 352)",
]  # fmt: skip
# The BPD loss is a sum over pixels weighted by 1 / sqrt(region area), the semantic loss a mean:
# their gradients per pixel stand in the ratio LOSS_WEIGHT x batch x crop side. The paper's
# 1e-4 is for batches of 10 crops of 641; for 8 crops of 352 the same balance is
# 1e-4 x (10 x 641) / (8 x 352) = 2.3e-4.
_PAPER_BPD_BALANCE = ["MODEL.BPD_HEAD.LOSS_WEIGHT", "2.3e-4"]
_CAMVID_FULL_RES_TEST = ["INPUT.MIN_SIZE_TEST", "360", "INPUT.MAX_SIZE_TEST", "480"]


def _camvid_tta_test(min_sizes, max_size):
    """
    Test-time augmentation at CamVid's full test size: views whose shorter side is each of
    ``min_sizes`` (the longer at most ``max_size``), each also mirrored, their maps averaged.
    """
    return [*_CAMVID_FULL_RES_TEST,
            "TEST.AUG.ENABLED", "True",
            "TEST.AUG.MIN_SIZES", str(tuple(min_sizes)),
            "TEST.AUG.MAX_SIZE", str(max_size),
            "TEST.AUG.FLIP", "True"]  # fmt: skip


# the image and its mirror; with a second, 1.5x larger view (finer maps for small objects); and
# a third at twice the size
_CAMVID_FLIP_TEST = _camvid_tta_test((360,), 480)
_CAMVID_MULTISCALE_TEST = _camvid_tta_test((360, 540), 720)
_CAMVID_MULTISCALE3_TEST = _camvid_tta_test((360, 540, 720), 960)
_SHAPES_TINY = [
    "INPUT.MIN_SIZE_TRAIN", "(64,)",
    "INPUT.MAX_SIZE_TRAIN", "64",
    "INPUT.MIN_SIZE_TEST", "64",
    "INPUT.MAX_SIZE_TEST", "64",
    "SOLVER.MAX_ITER", "10",
    "SOLVER.CHECKPOINT_PERIOD", "1000",
    "SOLVER.IMS_PER_BATCH", "4",
    "DATALOADER.NUM_WORKERS", "0",
]  # fmt: skip

_CAMVID_MNV2 = os.path.join(CONFIGS, "camvid_goss", "mobilenet_v2")
# N+1 with outlier exposure by image-textured objects: the config of most full-resolution rows
_CAMVID_N1_IMAGE = os.path.join(_CAMVID_MNV2, "n_plus_one_oe_image.yaml")

BENCHMARKS = {
    "camvid_goss": {
        "models": {
            "N-model": os.path.join(_CAMVID_MNV2, "n_msp.yaml"),
            "GST": os.path.join(_CAMVID_MNV2, "gst.yaml"),
            "N+1": os.path.join(_CAMVID_MNV2, "n_plus_one.yaml"),
            "N+1-OE": os.path.join(_CAMVID_MNV2, "n_plus_one_oe.yaml"),
            "N+1-OE-test360": os.path.join(_CAMVID_MNV2, "n_plus_one_oe.yaml"),
            "N+1-OE-full": os.path.join(_CAMVID_MNV2, "n_plus_one_oe.yaml"),
            "N+1-OE-image-full": _CAMVID_N1_IMAGE,
            "N+1-OE-image-full-bpd": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full": _CAMVID_N1_IMAGE,
            "N+1-OE-small-full": os.path.join(_CAMVID_MNV2, "n_plus_one_oe_small.yaml"),
            "N+1-OE-mixed-full-novoid": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-flip": _CAMVID_N1_IMAGE,
            "N+1-OE-small-full-flip": os.path.join(_CAMVID_MNV2, "n_plus_one_oe_small.yaml"),
            "N+1-OE-small-full-flip-clu": os.path.join(_CAMVID_MNV2, "n_plus_one_oe_small.yaml"),
            "N+1-OE-mixed-full-novoid-flip": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-flip-clu": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms-clu": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms-r3": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms3-r3": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms3-clu": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms3-clu-ref": _CAMVID_N1_IMAGE,
            "N+1-OE-mixed-full-novoid-ms3-scope": _CAMVID_N1_IMAGE,
            "N-DML": os.path.join(_CAMVID_MNV2, "n_dml.yaml"),
            "GST-DFC": os.path.join(_CAMVID_MNV2, "gst_dfc.yaml"),
        },
        # model -> the model whose trained weights it evaluates (no training of its own)
        "reuse": {
            "N+1-OE-test360": "N+1-OE",
            "N+1-OE-mixed-full-flip": "N+1-OE-mixed-full",
            "N+1-OE-small-full-flip": "N+1-OE-small-full",
            "N+1-OE-small-full-flip-clu": "N+1-OE-small-full",
            "N+1-OE-mixed-full-novoid-flip": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-flip-clu": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms-clu": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms-r3": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms3-r3": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms3-clu": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms3-clu-ref": "N+1-OE-mixed-full-novoid",
            "N+1-OE-mixed-full-novoid-ms3-scope": "N+1-OE-mixed-full-novoid",
        },
        # model -> training overrides after the schedule's: the *-full models train at CamVid's
        # full resolution (the config's own scales and 352x352 crops) within the CPU schedule's
        # 2000 iterations; -bpd also weighs the BPD loss as the paper balances it, -mixed fills
        # the pasted outliers with either texture, -novoid leaves CamVid's void out of class N
        # (learnt from the pasted outliers alone)
        "train_opts": {
            "N+1-OE-full": _CAMVID_FULL_RES_TRAIN,
            "N+1-OE-image-full": _CAMVID_FULL_RES_TRAIN,
            "N+1-OE-image-full-bpd": [*_CAMVID_FULL_RES_TRAIN, *_PAPER_BPD_BALANCE],
            "N+1-OE-mixed-full": [*_CAMVID_FULL_RES_TRAIN, "INPUT.OUTLIER_PASTE.TEXTURE", "mixed"],
            "N+1-OE-small-full": _CAMVID_FULL_RES_TRAIN,
            "N+1-OE-mixed-full-novoid": [
                *_CAMVID_FULL_RES_TRAIN,
                "INPUT.OUTLIER_PASTE.TEXTURE",
                "mixed",
                "MODEL.GOSS.VOID_AS_UNKNOWN",
                "False",
            ],
        },
        # model -> test-time overrides after the schedule's: N+1-OE, trained at half resolution,
        # tested at CamVid's full 360x480, the *-full models, and the *-flip ones with test-time
        # augmentation (the image and its mirror) on the weights of the model they name
        "test_opts": {
            "N+1-OE-test360": _CAMVID_FULL_RES_TEST,
            "N+1-OE-full": _CAMVID_FULL_RES_TEST,
            "N+1-OE-image-full": _CAMVID_FULL_RES_TEST,
            "N+1-OE-image-full-bpd": _CAMVID_FULL_RES_TEST,
            "N+1-OE-mixed-full": _CAMVID_FULL_RES_TEST,
            "N+1-OE-small-full": _CAMVID_FULL_RES_TEST,
            "N+1-OE-mixed-full-novoid": _CAMVID_FULL_RES_TEST,
            "N+1-OE-mixed-full-flip": _CAMVID_FLIP_TEST,
            "N+1-OE-small-full-flip": _CAMVID_FLIP_TEST,
            "N+1-OE-small-full-flip-clu": _CAMVID_FLIP_TEST,
            "N+1-OE-mixed-full-novoid-flip": _CAMVID_FLIP_TEST,
            "N+1-OE-mixed-full-novoid-flip-clu": _CAMVID_FLIP_TEST,
            "N+1-OE-mixed-full-novoid-ms": _CAMVID_MULTISCALE_TEST,
            "N+1-OE-mixed-full-novoid-ms-clu": _CAMVID_MULTISCALE_TEST,
            "N+1-OE-mixed-full-novoid-ms-r3": _CAMVID_MULTISCALE_TEST,
            "N+1-OE-mixed-full-novoid-ms3-r3": _CAMVID_MULTISCALE3_TEST,
            "N+1-OE-mixed-full-novoid-ms3-clu": _CAMVID_MULTISCALE3_TEST,
            "N+1-OE-mixed-full-novoid-ms3-clu-ref": _CAMVID_MULTISCALE3_TEST,
            "N+1-OE-mixed-full-novoid-ms3-scope": _CAMVID_MULTISCALE3_TEST,
        },
        # model -> its own arguments of tools/calibrate_goss.py: -clu chooses the Super-BPD
        # thresholds by the quality of the clustering branch's whole-image partition (GQ_clu);
        # novoid-flip-clu also searches the smoothing of the field before Super-BPD
        "calibrate_opts": {
            "N+1-OE-small-full-flip-clu": ["--partition-objective", "GQ_clu"],
            "N+1-OE-mixed-full-novoid-flip-clu": [
                "--partition-objective",
                "GQ_clu",
                "--field-sigmas",
                "0",
                "1",
                "2",
                "3",
            ],
            "N+1-OE-mixed-full-novoid-ms-clu": ["--partition-objective", "GQ_clu"],
            # -r3: up to three rounds of the coordinate-ascent search
            "N+1-OE-mixed-full-novoid-ms-r3": ["--rounds", "3"],
            "N+1-OE-mixed-full-novoid-ms3-r3": ["--rounds", "3"],
            "N+1-OE-mixed-full-novoid-ms3-clu": [
                "--partition-objective",
                "GQ_clu",
                "--field-sigmas",
                "0",
                "1",
            ],
            # -ref: the thresholds' grid, then three steps of a pattern search between its values
            "N+1-OE-mixed-full-novoid-ms3-clu-ref": [
                "--partition-objective",
                "GQ_clu",
                "--refinements",
                "3",
                "--field-sigmas",
                "0",
                "1",
            ],
            # -scope: the seed quantile also taken per component of the unknown mask
            "N+1-OE-mixed-full-novoid-ms3-scope": ["--seed-scopes", "image", "component"],
        },
        "goals": True,  # the results file measures the real-image goals
        # identifiers and clusterers calibrated per model, within the CPU time of one session:
        # the N-model gets the full set (MaxLogit and energy; MSP, the configs' own, is the "as
        # configured" row, with Super-BPD); the others their main identifier with the
        # split-components clusterer (whose grid includes Super-BPD's thresholds) and connected
        # components: N+1 models their own unknown class, the DML model DMLNet's fused score
        "identifiers": {
            "N-model": ("max_logit", "energy"),
            "GST": ("energy",),
            "N+1": ("n_plus_one",),
            "N+1-OE": ("n_plus_one", "energy"),
            "N+1-OE-test360": ("n_plus_one",),
            "N+1-OE-full": ("n_plus_one", "energy"),
            "N+1-OE-image-full": ("n_plus_one", "energy"),
            "N+1-OE-image-full-bpd": ("n_plus_one", "energy"),
            "N+1-OE-mixed-full": ("n_plus_one", "energy"),
            "N+1-OE-small-full": ("n_plus_one", "energy"),
            "N+1-OE-mixed-full-novoid": ("n_plus_one", "energy"),
            "N+1-OE-mixed-full-flip": ("n_plus_one", "energy"),
            "N+1-OE-small-full-flip": ("n_plus_one", "energy"),
            "N+1-OE-small-full-flip-clu": ("n_plus_one", "energy"),
            "N+1-OE-mixed-full-novoid-flip": ("n_plus_one", "energy"),
            "N+1-OE-mixed-full-novoid-flip-clu": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms-clu": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms-r3": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms3-r3": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms3-clu": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms3-clu-ref": ("n_plus_one",),
            "N+1-OE-mixed-full-novoid-ms3-scope": ("n_plus_one",),
            "N-DML": ("dml",),
            "GST-DFC": ("energy",),
        },
        "clusterers": {
            "N-model": ("super_bpd", "split_components", "connected_components", "none"),
            # the best identification also with the clusterer that splits its mask along the
            # valleys of its unknown score; -clu is there for the partition (GQ_clu) alone
            "N+1-OE-mixed-full-novoid-flip": (
                "split_components",
                "connected_components",
                "seeded_components",
            ),
            "N+1-OE-mixed-full-novoid-flip-clu": ("split_components",),
            "N+1-OE-mixed-full-novoid-ms": ("seeded_components", "connected_components"),
            "N+1-OE-mixed-full-novoid-ms-clu": ("split_components",),
            "N+1-OE-mixed-full-novoid-ms-r3": ("seeded_components", "connected_components"),
            "N+1-OE-mixed-full-novoid-ms3-r3": ("seeded_components", "connected_components"),
            "N+1-OE-mixed-full-novoid-ms3-clu": ("split_components",),
            "N+1-OE-mixed-full-novoid-ms3-clu-ref": ("split_components",),
            "N+1-OE-mixed-full-novoid-ms3-scope": ("seeded_components",),
            # the DFC model has no BPD field: its own clusters instead of the Super-BPD ones
            "GST-DFC": ("dfc", "felzenszwalb", "connected_components"),
        },
        "calibration": "camvid_goss_val",
        # split key -> (registered dataset, its directory under the datasets root)
        "evaluation": {
            "val": ("camvid_goss_val", "camvid_goss_8_3/val"),
            "test": ("camvid_goss_test", "camvid_goss_8_3/test"),
        },
        # full: each config's own schedule (360x480, 20000 iterations)
        "schedules": {"cpu": _CAMVID_CPU, "full": []},
    },
    "goss_shapes": {
        "models": {
            "N-model": os.path.join(CONFIGS, "goss_shapes", "n_mobilenet_v2.yaml"),
            "GST": os.path.join(CONFIGS, "goss_shapes", "gst_mobilenet_v2.yaml"),
        },
        # GST also with the seeded clusterer and the field's smoothing (the tools' whole path)
        "clusterers": {"GST": (*CLUSTERERS, "seeded_components")},
        "calibrate_opts": {"GST": ["--field-sigmas", "0", "1"]},
        "calibration": "goss_shapes_val",
        "evaluation": {"val": ("goss_shapes_val", "goss_shapes/val")},
        "schedules": {"tiny": _SHAPES_TINY, "cpu": []},
        # a small goss_shapes for the tiny schedule (the tests' end-to-end run)
        "build_args": {"tiny": ["--num-train", "16", "--num-val", "6", "--image-size", "64"]},
    },
}


def get_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--benchmark", choices=sorted(BENCHMARKS), default="camvid_goss")
    p.add_argument("--camvid-root", help="CamVid in SegNet layout ({train,val[,test]}{,annot}/)")
    p.add_argument("--output", default="output/camvid_experiment", help="experiment folder")
    p.add_argument(
        "--datasets",
        default=os.getenv("DETECTRON2_DATASETS", "datasets"),
        help="datasets root the benchmark is built under (default: $DETECTRON2_DATASETS)",
    )
    p.add_argument("--schedule", default="cpu", help="cpu (default), full, or tiny (goss_shapes)")
    p.add_argument("--full", action="store_true", help="the same as --schedule full (for a GPU)")
    p.add_argument(
        "--results",
        help="results file stem; .md and .json are written "
        "(default: projects/GOSS/results/<benchmark> for the cpu schedule, "
        "<benchmark>_<schedule> for the others)",
    )
    p.add_argument("--stop-after", help="stop after the stage of this name (e.g. train_GST)")
    p.add_argument(
        "--models",
        nargs="+",
        metavar="MODEL",
        help="run the stages of these models only (and the training of the models whose weights "
        "they evaluate); the other models' rows are carried over from the results file of an "
        "earlier run of the same command, which must hold them with the same overrides",
    )
    return p


def selected_models(bench, names):
    """
    The models whose stages run: ``names`` (all of the benchmark's when None) in the benchmark's
    order, as ``(evaluated, trained)`` lists; ``trained`` adds the models whose weights an
    evaluated model reuses. Raises SystemExit on a name the benchmark does not have.
    """
    models, reuse = list(bench["models"]), bench.get("reuse", {})
    if names is None:
        return models, [m for m in models if m not in reuse]
    unknown = [n for n in names if n not in bench["models"]]
    if unknown:
        raise SystemExit(f"--models: no model {', '.join(unknown)}; the benchmark has {models}")
    evaluated = [m for m in models if m in names]
    needed = {reuse.get(m, m) for m in evaluated}
    return evaluated, [m for m in models if m in needed and m not in reuse]


class Stages:
    """Runs named stages once: a stage whose record exists with the same settings is skipped."""

    def __init__(self, output_dir):
        self.dir = os.path.join(output_dir, "stages")
        os.makedirs(self.dir, exist_ok=True)

    def run(self, name, settings, fn):
        """Runs ``fn()`` (returning a JSON-able dict) unless ``name`` is done with ``settings``."""
        path = os.path.join(self.dir, f"{name}.json")
        if os.path.isfile(path):
            with open(path) as f:
                record = json.load(f)
            if record.get("settings") == settings:
                logger.info("[%s] done earlier, skipped", name)
                return record["outputs"]
            logger.info("[%s] settings changed since the last run: redoing it", name)
        logger.info("[%s] running", name)
        start = time.time()
        outputs = fn()
        record = {"settings": settings, "outputs": outputs, "seconds": time.time() - start}
        payload = json.dumps(json_safe(record), indent=1, allow_nan=False)
        atomic_write_bytes(path, payload.encode())
        logger.info("[%s] finished in %.0f s", name, record["seconds"])
        return outputs


def _run(cmd, log_path, env):
    """Runs ``cmd`` with its output appended to ``log_path``; raises with the log's name."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    if rc != 0:
        raise RuntimeError(f"command failed (exit {rc}), see {log_path}: {' '.join(cmd)}")


def _build_command(args, bench):
    py = sys.executable
    if args.benchmark == "camvid_goss":
        if not args.camvid_root:
            raise SystemExit("--camvid-root is required for --benchmark camvid_goss")
        splits = [
            s for s in ("train", "val", "test") if os.path.isdir(os.path.join(args.camvid_root, s))
        ]
        return [py, "datasets/prepare_camvid_goss.py", "--camvid-root", args.camvid_root,
                "--splits", *splits, "--output", args.datasets, "--no-progress"]  # fmt: skip
    extra = bench.get("build_args", {}).get(args.schedule, [])
    return [
        py,
        "datasets/prepare_goss_shapes.py",
        "--output",
        args.datasets,
        "--no-progress",
        *extra,
    ]


def model_opts(bench, kind, model):
    """
    ``model``'s own config overrides, ``kind`` "train" (``train_opts``) or "test", or its own
    arguments of ``tools/calibrate_goss.py`` (``kind`` "calibrate").
    """
    return bench.get(f"{kind}_opts", {}).get(model, [])


def train_command(bench, model, schedule, model_dir, py=sys.executable):
    """
    The ``train_net.py`` command of ``model``: its config, the schedule's overrides, then the
    model's own ``train_opts`` (which take precedence), and its ``OUTPUT_DIR``.
    """
    cfg = bench["models"][model]
    own = model_opts(bench, "train", model)
    return [
        py,
        "tools/train_net.py",
        "--config-file",
        cfg,
        *schedule,
        *own,
        "OUTPUT_DIR",
        model_dir,
    ]


def calibrate_command(bench, model, schedule, weights, calib_dir, splits, py=sys.executable):
    """
    The ``calibrate_goss.py`` command of ``model``: its identifiers and clusterers, the
    evaluation ``splits``, its own calibration arguments (before ``--no-progress``, which ends
    their lists of values), then its config overrides (:func:`eval_overrides`) and ``weights``.
    """
    return [py, "tools/calibrate_goss.py", "--config-file", bench["models"][model],
            "--dataset", bench["calibration"], "--output", calib_dir,
            "--identifiers", *bench.get("identifiers", {}).get(model, IDENTIFIERS),
            "--clusterers", *bench.get("clusterers", {}).get(model, CLUSTERERS),
            "--evaluate", *splits, *model_opts(bench, "calibrate", model),
            "--no-progress", *eval_overrides(bench, model, schedule),
            "MODEL.WEIGHTS", weights]  # fmt: skip


def eval_overrides(bench, model, schedule):
    """The overrides ``model`` is calibrated and evaluated with: the schedule's, then its own."""
    return [*schedule, *model_opts(bench, "test", model)]


def _command(argv):
    """The command line of the results file: ``argv`` without ``--models`` and its names."""
    out, skip = [], False
    for a in argv:
        if a == "--models" or a.startswith("--models="):
            skip = a == "--models"
            continue
        if skip and not a.startswith("-"):
            continue
        skip = False
        out.append(a)
    return " ".join(["python tools/run_experiment.py", *out])


def _built_evaluation_splits(args, bench):
    """The evaluation splits whose GOSS ground truth exists under the datasets root."""
    out = {}
    for key, (name, directory) in bench["evaluation"].items():
        if os.path.isfile(os.path.join(args.datasets, directory, "panoptic.json")):
            out[key] = name
    return out


def run_experiment(args):
    bench = BENCHMARKS[args.benchmark]
    if args.schedule not in bench["schedules"]:
        raise SystemExit(
            f"--schedule {args.schedule}: {args.benchmark} has {sorted(bench['schedules'])}"
        )
    schedule = bench["schedules"][args.schedule]
    out = os.path.abspath(args.output)
    args.datasets = os.path.abspath(args.datasets)
    env = dict(os.environ, DETECTRON2_DATASETS=args.datasets, PYTHONUNBUFFERED="1")
    py = sys.executable
    stages = Stages(out)
    logs = os.path.join(out, "logs")

    def stop(name):
        if args.stop_after == name:
            logger.info("stopping after %s (--stop-after)", name)
            return True
        return False

    evaluated, trained = selected_models(bench, args.models)
    carried_models = [m for m in bench["models"] if m not in evaluated]
    results = args.results
    if results is None:
        name = args.benchmark if args.schedule == "cpu" else f"{args.benchmark}_{args.schedule}"
        results = os.path.join(ROOT, "projects", "GOSS", "results", name)
    overrides = {
        m: {kind: model_opts(bench, kind, m) for kind in ("train", "test", "calibrate")}
        for m in bench["models"]
    }
    from goss.engine.experiment_report import carried_rows

    try:  # checked before any stage runs
        carried = carried_rows(
            results,
            carried_models,
            schedule,
            bench["calibration"],
            overrides,
        )
    except ValueError as e:
        raise SystemExit(f"--models: {e}") from None

    build = _build_command(args, bench)
    stages.run(
        "build", {"cmd": build}, lambda: _run(build, os.path.join(logs, "build.log"), env) or {}
    )
    if stop("build"):
        return 0

    weights = {}
    reuse = bench.get("reuse", {})
    for model in trained:  # the others are evaluated with another model's weights
        model_dir = os.path.join(out, "models", model)
        cmd = train_command(bench, model, schedule, model_dir, py)

        def train(cmd=cmd, model_dir=model_dir, model=model):
            resume = (
                ["--resume"] if os.path.isfile(os.path.join(model_dir, "last_checkpoint")) else []
            )
            _run(cmd[:2] + resume + cmd[2:], os.path.join(logs, f"train_{model}.log"), env)
            return {"weights": os.path.join(model_dir, "model_final.pth")}

        weights[model] = stages.run(f"train_{model}", {"cmd": cmd}, train)["weights"]
        if stop(f"train_{model}"):
            return 0

    splits = _built_evaluation_splits(args, bench)
    calibrated, rows = {}, []
    for model in evaluated:
        if model in reuse:  # evaluated with the weights of the model it names
            weights[model] = weights[reuse[model]]
        cfg = bench["models"][model]
        test_opts = eval_overrides(bench, model, schedule)
        calib_dir = os.path.join(out, "calibration", model)
        cmd = calibrate_command(
            bench, model, schedule, weights[model], calib_dir, list(splits.values()), py
        )

        def calibrate(cmd=cmd, calib_dir=calib_dir, model=model):
            _run(cmd, os.path.join(logs, f"calibrate_{model}.log"), env)
            with open(os.path.join(calib_dir, "calibration.json")) as f:
                return json.load(f)

        calibrated[model] = stages.run(f"calibrate_{model}", {"cmd": cmd}, calibrate)
        if stop(f"calibrate_{model}"):
            return 0
        # the user's command for the model as configured, beside the same row from the cache
        eval_dir = os.path.join(out, "eval_only", model)
        dataset = bench["calibration"]
        cmd = [py, "tools/train_net.py", "--config-file", cfg, "--eval-only", *test_opts,
               "MODEL.WEIGHTS", weights[model], "DATASETS.TEST", f"('{dataset}',)",
               "OUTPUT_DIR", eval_dir]  # fmt: skip
        eval_json = os.path.join(eval_dir, "inference", dataset, "gq_results.json")
        stages.run(
            f"eval_only_{model}",
            {"cmd": cmd},
            lambda cmd=cmd, model=model: _run(cmd, os.path.join(logs, f"eval_{model}.log"), env)
            or {"results": eval_json},
        )
        for split, dataset in splits.items():
            for row, path in calibrated[model]["evaluation"][dataset].items():
                rows.append(
                    {
                        "model": model,
                        "split": split,
                        "dataset": dataset,
                        "row": row,
                        "results": path,
                        "settings": calibrated[model]["best"].get(row, {}).get("settings", {}),
                    }
                )
        rows.append(
            {
                "model": model,
                "split": "val",
                "dataset": bench["calibration"],
                "row": "as configured (train_net.py --eval-only)",
                "results": eval_json,
                "settings": {},
            }
        )
    from goss.engine.experiment_report import write_report

    by_model = {m: [] for m in bench["models"]}
    for r in [*carried, *rows]:
        by_model[r["model"]].append(r)
    write_report(
        results,
        [r for model_rows in by_model.values() for r in model_rows],
        command=_command(sys.argv[1:]),
        schedule=schedule,
        calibration=bench["calibration"],
        goals=bench.get("goals", False),
        model_overrides=overrides,
        carried=carried_models,
    )
    logger.info("wrote %s.md and %s.json", results, results)
    return 0


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = get_parser().parse_args(argv)
    if args.full:
        args.schedule = "full"
    try:
        return run_experiment(args)
    except RuntimeError as e:  # a stage's command failed: its log has the details
        logger.error("error: %s", e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
