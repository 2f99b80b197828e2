"""
Calibration of GOSS post-processing on a validation split: the model runs once, its per-image
maps are cached, and identification and clustering settings are searched by GQ.

The search is coordinate ascent over named config keys (:data:`IDENTIFICATION_GRIDS`,
:data:`CLUSTERER_GRIDS`, :data:`AREA_GRIDS`): each stage tries its grid with the best settings
found so far and keeps the best by GQ; on a tie the current value stays if the grid holds it,
else the first in grid order wins. Every setting is
scored by the identifier and fusion the model builds from it
(:class:`goss.modeling.identification.UnknownIdentifier`,
:class:`goss.modeling.postprocessing.GOSSFusion`) and the GQ accumulator, the code ``--eval-only``
runs, so a calibrated config scores on the same split exactly as the sweep said.
"""

import itertools
import logging
import os
import tempfile

import numpy as np
import torch
import yaml
from tabulate import tabulate
from tqdm import tqdm

from ..data.goss_format import atomic_write_bytes
from ..evaluation.accumulator import GQAccumulator
from ..modeling.clustering import UNKNOWN_CLUSTERER_REGISTRY, needed_branch
from ..modeling.identification import (
    DML_IDENTIFIERS,
    UnknownIdentifier,
    apply_threshold,
    identification_scores,
)
from ..modeling.postprocessing import GOSSFusion, upsample_image, upsample_maps

__all__ = [
    "AREA_GRIDS",
    "CLUSTERER_GRIDS",
    "IDENTIFICATION_GRIDS",
    "MapCache",
    "PARTITION_GRID",
    "PARTITION_OBJECTIVES",
    "REFINED_KEYS",
    "ScoreQuantiles",
    "calibrate",
    "check_pair",
    "evaluate_settings",
    "format_sweep",
    "write_calibrated_config",
]

logger = logging.getLogger(__name__)

_G = "MODEL.GOSS."
_PP = "MODEL.BPD_HEAD.POSTPROCESS."


class ScoreQuantiles(tuple):
    """
    A grid given as percentages of validation pixels: each becomes the value of the identifier's
    confidence below which that share of the cached pixels lies (for scores in model units).
    """


# identifier -> the key and values its stage searches
IDENTIFICATION_GRIDS = {
    "msp": {
        _G + "MSP_THRESHOLD": [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99]
    },
    "max_logit": {
        _G + "MAX_LOGIT_THRESHOLD": [0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9]
    },
    "energy": {_G + "ENERGY_THRESHOLD": ScoreQuantiles((0.5, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30))},
    "n_plus_one": {
        _G + "CONFIDENCE_ADJUSTMENT": [1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 50.0, 100.0, 200.0]
    },
    # 1 - DMLNet's unknown scores, in [0, 1]
    "dml": {_G + "DML_THRESHOLD": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]},
    "eds": {_G + "EDS_THRESHOLD": [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]},
}
# clusterer -> its stages, each a grid (the product of its keys' values)
CLUSTERER_GRIDS = {
    "super_bpd": [
        {
            _PP + "THETA_A": [30.0, 45.0, 60.0, 75.0],
            _PP + "THETA_L": [100.0, 116.0, 135.0, 150.0],
            _PP + "THETA_S": [45.0, 68.0, 90.0],
        },
        {_PP + "S_O": [2.0, 5.0, 10.0]},
    ],
    "connected_components": [],
    # seeded_components: how much of the unknown mask seeds it, then the smallest seed
    "seeded_components": [
        {_G + "SEED_QUANTILE": [0.0, 0.2, 0.4, 0.6, 0.8, 0.9]},
        {_G + "SEED_MIN_AREA": [4, 16, 64, 256, 1024, 4096]},
    ],
    "none": [],
    "dfc": [],
    "felzenszwalb": [
        {
            "MODEL.FELZENSZWALB.SCALE": [50.0, 100.0, 300.0, 1000.0],
            "MODEL.FELZENSZWALB.SIGMA": [0.5, 0.8],
        },
        {"MODEL.FELZENSZWALB.MIN_SIZE": [20, 50, 200]},
    ],
}
# split_components: a coarser Super-BPD grid (up to thresholds that merge little), then the size
# of the pieces it may cut
CLUSTERER_GRIDS["split_components"] = [
    {
        _PP + "THETA_A": [45.0, 90.0, 120.0],
        _PP + "THETA_L": [116.0, 160.0],
        _PP + "THETA_S": [68.0, 160.0],
    },
    {_G + "SPLIT_MIN_AREA": [64, 256, 1024, 4096]},
]
# The Super-BPD thresholds searched by GQ_clu (``partition_objective="GQ_clu"``): the clustering
# branch's whole-image partition, from few regions to many (THETA_L below the paper's 116 merges
# large regions whose directions differ by up to 180 - THETA_L degrees: 80 and 90 at 100 and 90)
PARTITION_GRID = {
    _PP + "THETA_A": [45.0, 90.0, 120.0],
    _PP + "THETA_L": [90.0, 100.0, 116.0, 160.0, 170.0],
    _PP + "THETA_S": [68.0, 120.0, 160.0],
}
PARTITION_OBJECTIVES = ("GQ", "GQ_clu")
# The keys that ``refinements`` search between a grid's values (see ``_Search._refine``): the
# Super-BPD thresholds, in degrees, whose best often lies between two values of the grids above
REFINED_KEYS = (_PP + "THETA_A", _PP + "THETA_L", _PP + "THETA_S")
AREA_GRIDS = [
    {_G + "UNKNOWN_MIN_AREA": [0, 16, 64, 128, 256, 512]},
    {_G + "KNOWN_MIN_AREA": [0, 64, 256]},
]


class MapCache:
    """
    The per-image maps of one forward pass (:meth:`goss.modeling.GOSS.predict_maps`) and the GT,
    in memory up to ``max_bytes``, beyond that in ``cache_dir`` (a temporary folder is made
    there and removed by :meth:`close`); without ``cache_dir`` exceeding the bound is an error.
    """

    def __init__(self, max_bytes, cache_dir=None):
        self.max_bytes = int(max_bytes)
        self.cache_dir = cache_dir
        self._dir = None
        self.items = []
        self.nbytes = 0

    def add(self, logits, field, size, gt_ids, record, image=None):
        """
        logits ``[C, h, w]``, the clustering map ``field`` ``[C', h, w]`` (BPD field or DFC
        response), output ``size``, GT ids ``[H, W]``, the dataset ``record`` (``image_id``,
        ``file_name``, ``pan_seg_file_name``, ``segments_info``) and the network input ``image``
        ``[3, h, w]`` (0..255; kept as uint8, for clusterers that read the image).
        """
        maps = torch.cat([logits.float().cpu(), field.float().cpu()]).numpy()
        gt = np.asarray(gt_ids, dtype=np.int32)
        img = np.zeros((0,), np.uint8)
        if image is not None:
            img = image.detach().cpu().float().round().clamp(0, 255).to(torch.uint8).numpy()
        nbytes = maps.nbytes + gt.nbytes + img.nbytes
        if self.nbytes + nbytes > self.max_bytes:
            if self.cache_dir is None:
                raise MemoryError(
                    f"the cached maps exceed --max-cache-mb ({self.max_bytes >> 20} MiB) after "
                    f"{len(self.items)} images: raise it or give --cache-dir"
                )
            if self._dir is None:
                os.makedirs(self.cache_dir, exist_ok=True)
                self._dir = tempfile.mkdtemp(prefix="goss_calibration_", dir=self.cache_dir)
            path = os.path.join(self._dir, f"{len(self.items)}.npz")
            np.savez(path, maps=maps, gt=gt, image=img)
            maps = gt = img = path
        else:
            self.nbytes += nbytes
        keys = ("image_id", "file_name", "pan_seg_file_name", "segments_info")
        record = {k: record[k] for k in keys if k in record}
        self.items.append((maps, int(logits.shape[0]), tuple(size), gt, img, record))

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        """
        Yields ``(logits [C, H, W], field [C', H, W], image [3, H, W] or None, gt_ids [H, W],
        record)`` at output resolution.
        """
        for maps, c, size, gt, img, record in self.items:
            if isinstance(maps, str):
                with np.load(maps) as f:
                    maps, gt, img = f["maps"], f["gt"], f["image"]
            maps = torch.from_numpy(maps)
            logits, field = upsample_maps(maps[:c], maps[c:], size)
            image = upsample_image(torch.from_numpy(img), size) if img.size else None
            yield logits, field, image, gt.astype(np.int64), record

    def close(self):
        if self._dir is not None:
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _setting_cfg(base_cfg, settings):
    cfg = base_cfg.clone()
    cfg.defrost()
    cfg.merge_from_list([v for k, x in settings.items() for v in (k, x)])
    return cfg


def _postprocessing(cfg):
    """``(identifier, fusion)`` of a config, built as the model's from_config builds them."""
    return UnknownIdentifier.from_config(cfg), GOSSFusion.from_config(cfg)


def evaluate_settings(base_cfg, cache, settings, dataset_name, output_dir=None, progress=True):
    """
    Evaluate one setting on cached maps with :class:`goss.evaluation.GQEvaluator` (every GQ,
    diagnostic and OSS metric, bootstrap CIs), as ``--eval-only`` with that setting would.

    Args:
        settings (dict): dotted config keys -> values on top of ``base_cfg`` ({} = as configured).
        dataset_name (str): the registered split the cache holds (for the evaluator's metadata).
    Returns:
        dict: the evaluator's ``"goss"`` results.
    """
    from ..evaluation import GQEvaluator

    identifier, fusion = _postprocessing(_setting_cfg(base_cfg, settings))
    evaluator = GQEvaluator(
        dataset_name, output_dir=output_dir, distributed=False, clusterer=fusion.clusterer
    )
    evaluator.reset()
    for logits, field, image, _, record in tqdm(
        cache, total=len(cache), desc=f"evaluate on {dataset_name}", disable=not progress
    ):
        out = fusion(logits, field, identifier(logits), probabilities=False, image=image)
        evaluator.process([record], [out])
    return evaluator.evaluate()["goss"]


class _Scorer:
    """GQ of post-processing settings on cached maps (identifications and partitions memoised)."""

    def __init__(self, base_cfg, cache, progress=True):
        self.base_cfg = base_cfg
        self.cache = cache
        self.progress = progress
        g = base_cfg.MODEL.GOSS
        self.num_known = g.NUM_KNOWN_CLASSES
        self.label_divisor = g.LABEL_DIVISOR

    def score(self, settings_list, desc="sweep", partition_quality=False):
        """
        Returns one GQ summary dict (percent) per settings dict of ``settings_list``; with
        ``partition_quality`` it also holds ``GQ_clu`` (of settings whose clusterer makes a
        whole-image partition).
        """
        posts = [_postprocessing(_setting_cfg(self.base_cfg, s)) for s in settings_list]
        accs = [GQAccumulator(self.num_known, diagnostics=False) for _ in settings_list]
        bar = tqdm(
            total=len(settings_list) * len(self.cache),
            desc=desc,
            disable=not self.progress,
            mininterval=2,
        )
        for logits, field, image, gt_ids, record in self.cache:
            scores, identified, partitions = {}, {}, {}
            for (identifier, fusion), acc in zip(posts, accs):
                method, beta, clusterer = identifier.method, identifier.beta, fusion.clusterer
                ident = (method, identifier.threshold, beta)
                if ident not in identified:
                    if (method, beta) not in scores:
                        scores[method, beta] = identifier.scores(logits)
                    labels, confidence, unknown_score = scores[method, beta]
                    labels = apply_threshold(
                        labels, confidence, identifier.threshold, self.num_known
                    )
                    identified[ident] = (labels, unknown_score)
                partition = None
                if hasattr(clusterer, "partition"):
                    key = clusterer.partition_key()
                    if key not in partitions:
                        source = image if clusterer.source == "image" else field
                        if source is None:
                            raise ValueError(
                                f"the {clusterer.name} clusterer reads the image: the cache "
                                "holds none (MapCache.add(..., image=))"
                            )
                        partitions[key] = clusterer.partition(source)
                    partition = partitions[key]
                out = fusion(
                    logits, field, identified[ident], partition=partition, probabilities=False
                )
                pan = out["panoptic_seg"][0]
                segs = _goss_segments(pan, self.num_known, self.label_divisor)
                acc.add_image(
                    record["image_id"],
                    gt_ids,
                    record["segments_info"],
                    pan.numpy(),
                    segs,
                    pred_void=-1,
                    clusters=partition.numpy()
                    if partition_quality and partition is not None
                    else None,
                )
                bar.update()
        bar.close()
        return [acc.summarize(bootstrap_samples=0)[0] for acc in accs]


def _goss_segments(pan, num_known, label_divisor):
    """
    ``segments_info`` of a :func:`get_goss_segmentation` output without a pass over unique ids:
    known class c is ``c * label_divisor``, unknown segments are numbered ``1..K`` consecutively.
    """
    valid = pan[pan >= 0]
    cats = torch.bincount(valid // label_divisor, minlength=num_known + 1)
    segs = [{"id": c * label_divisor, "category_id": c} for c in range(num_known) if cats[c] > 0]
    if cats[num_known] > 0:
        k = int(valid.max()) - num_known * label_divisor
        segs += [
            {"id": num_known * label_divisor + i, "category_id": num_known} for i in range(1, k + 1)
        ]
    return segs


def _cfg_values(cfg, keys):
    """``{key: value}`` of dotted config ``keys`` in ``cfg``."""
    out = {}
    for key in keys:
        node = cfg
        for part in key.split("."):
            node = node[part]
        out[key] = node
    return out


def _current_values(base_cfg, settings, grid):
    """The values the grid's keys have in ``base_cfg`` with ``settings`` applied."""
    return _cfg_values(_setting_cfg(base_cfg, settings), grid)


def _confidence_quantiles(cache, num_known, identifier, percents, stride=7):
    """The ``percents`` quantiles of ``identifier``'s confidence over every ``stride``-th pixel."""
    values = []
    for logits, _, _, _, _ in cache:
        confidence = identification_scores(logits, num_known, identifier)[1]
        values.append(confidence.flatten()[::stride].numpy())
    q = np.percentile(np.concatenate(values), list(percents))
    return [round(float(v), 4) for v in q]


def _resolve_grid(grid, cache, num_known, identifier):
    """``grid`` with its :class:`ScoreQuantiles` replaced by values on ``cache``."""
    return {
        k: (
            _confidence_quantiles(cache, num_known, identifier, v)
            if isinstance(v, ScoreQuantiles)
            else v
        )
        for k, v in grid.items()
    }


def _grid(grid):
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def calibrate(
    base_cfg,
    cache,
    identifier,
    clusterer,
    progress=True,
    partition_objective="GQ",
    field_sigmas=None,
    rounds=1,
    seed_scopes=None,
    refinements=0,
):
    """
    Coordinate-ascent search of one identifier x clusterer pair.

    With ``partition_objective="GQ_clu"`` the Super-BPD thresholds of a clusterer that cuts
    along the whole-image partition (``super_bpd``, ``split_components``) are chosen instead by
    the quality of that partition, GQ_clu, over :data:`PARTITION_GRID` (the clustering branch
    tuned for its own task); every other setting is still searched by GQ, given them. With
    ``field_sigmas`` such a clusterer also searches the smoothing of the field before Super-BPD
    (``MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA``), right after the thresholds and by the same
    objective. With ``seed_scopes`` the ``seeded_components`` clusterer's first stage also
    searches what its quantile is taken over (``MODEL.GOSS.SEED_SCOPE``).

    One round searches identification, the clusterer's stages, identification again and the
    minimum areas. The clusterer's settings are thus chosen before any minimum area drops the
    small pieces they make; with ``rounds > 1`` the clusterer's stages, identification and the
    areas are searched again, each given the others, until a round changes no setting or
    ``rounds`` rounds ran.

    With ``refinements`` > 0, a stage whose grid holds Super-BPD thresholds
    (:data:`REFINED_KEYS`) is followed by that many steps of a pattern search between the grid's
    values around its best, by the stage's objective (stages "... refinement n").

    Args:
        base_cfg (CfgNode): the model's config (its values start the search).
        cache (MapCache): the cached maps and GT of the calibration split.
        identifier (str): a key of :data:`IDENTIFICATION_GRIDS`.
        clusterer (str): a key of :data:`CLUSTERER_GRIDS`.
        partition_objective (str): "GQ" or "GQ_clu" (see above).
        field_sigmas (sequence of float or None): the field smoothings to try (see above).
        rounds (int): the most rounds of coordinate ascent (see above); at least 1.
        seed_scopes (sequence of str or None): the seed scopes to try (see above).
        refinements (int): the pattern-search steps after a Super-BPD threshold grid (see
            above); 0: none.
    Returns:
        (best, sweep): ``best`` = {settings, GQ, ...}; ``sweep`` = list of rows
        ``{stage, settings, GQ, GQ_kn, GQ_uk, SQ_uk, RQ_uk}`` (and ``GQ_clu`` in the partition
        stage) in the order tried.
    """
    if partition_objective not in PARTITION_OBJECTIVES:
        raise ValueError(
            f"partition objective {partition_objective!r}: one of {PARTITION_OBJECTIVES}"
        )
    if int(rounds) < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if int(refinements) < 0:
        raise ValueError(f"refinements must be at least 0, got {refinements}")
    if identifier not in IDENTIFICATION_GRIDS:
        raise ValueError(f"identifier {identifier!r}: one of {sorted(IDENTIFICATION_GRIDS)}")
    if clusterer not in CLUSTERER_GRIDS:
        raise ValueError(f"clusterer {clusterer!r}: one of {sorted(CLUSTERER_GRIDS)}")
    check_pair(base_cfg, identifier, clusterer)
    scorer = _Scorer(base_cfg, cache, progress)
    best = {_G + "IDENTIFIER": identifier, _G + "UNKNOWN_CLUSTERING": clusterer}
    ident_grid = _resolve_grid(
        IDENTIFICATION_GRIDS[identifier], cache, scorer.num_known, identifier
    )
    clusterer_grids = list(CLUSTERER_GRIDS[clusterer])
    # the clusterer's Super-BPD stages (super_bpd, split_components): by GQ_clu if asked
    partition_grids = []
    if clusterer_grids and set(clusterer_grids[0]) == set(PARTITION_GRID):
        if partition_objective == "GQ_clu":
            clusterer_grids[0] = PARTITION_GRID
            partition_grids.append(PARTITION_GRID)
        if field_sigmas:
            sigma_grid = {_PP + "FIELD_SIGMA": [float(s) for s in field_sigmas]}
            clusterer_grids.insert(1, sigma_grid)
            if partition_objective == "GQ_clu":
                partition_grids.append(sigma_grid)
    if seed_scopes and clusterer == "seeded_components":
        clusterer_grids[0] = dict(clusterer_grids[0], **{_G + "SEED_SCOPE": list(seed_scopes)})
    later = [(f"{clusterer} {i + 1}", g) for i, g in enumerate(clusterer_grids)]
    if clusterer_grids:
        later.append(("identification again", ident_grid))
    later += [("min areas", g) for g in AREA_GRIDS]
    stages = [("identification", ident_grid), *later]
    label = f"{identifier}/{clusterer}"
    search = _Search(scorer, base_cfg, label, best, partition_grids, refinements)
    for n in range(1, int(rounds) + 1):
        if n > 1:
            stages = [(f"{stage} (round {n})", grid) for stage, grid in later]
        start = dict(search.best)
        search.run(stages)
        if search.best == start:  # this round changed nothing: the search has converged
            break
    return dict(search.best_row), search.sweep


class _Search:
    """
    The state of one :func:`calibrate` search (the best settings and row so far, and the sweep)
    and its steps: a stage's grid, then the refinements of its Super-BPD thresholds.
    """

    def __init__(self, scorer, base_cfg, label, start, partition_grids, refinements=0):
        """
        Args:
            scorer (_Scorer): scores settings on the cached maps.
            base_cfg (CfgNode): the model's config.
            label (str): ``identifier/clusterer``, for the logs.
            start (dict): the settings the search starts from.
            partition_grids (list[dict]): the grids (by identity) searched by GQ_clu.
            refinements (int): the refinements after a grid of :data:`REFINED_KEYS`.
        """
        self.scorer = scorer
        self.base_cfg = base_cfg
        self.label = label
        self.partition_grids = partition_grids
        self.refinements = int(refinements)
        self.best, self.best_row, self.sweep = dict(start), None, []

    def run(self, stages):
        """Search each ``(name, grid)`` of ``stages`` in turn, given the best so far."""
        for stage, grid in stages:
            partition_stage = any(grid is g for g in self.partition_grids)
            objective = "GQ_clu" if partition_stage else "GQ"
            self._grid_stage(stage, grid, partition_stage)
            self._refine(stage, grid, objective, partition_stage)
            score = f"GQ {self.best_row['GQ']:.2f}"
            if partition_stage:
                score = f"GQ_clu {self.best_row['GQ_clu']:.2f} ({score})"
            logger.info("%s %s: best %s with %s", self.label, stage, score, _short(self.best))

    def _score(self, stage, candidates, partition_stage):
        results = self.scorer.score(
            candidates, desc=f"{self.label}: {stage}", partition_quality=partition_stage
        )
        rows = []
        for settings, res in zip(candidates, results):
            row = {"stage": stage, "settings": settings}
            row.update({k: res[k] for k in ("GQ", "GQ_kn", "GQ_uk", "SQ_uk", "RQ_uk")})
            if partition_stage:
                row["GQ_clu"] = res["GQ_clu"]
            rows.append(row)
        self.sweep.extend(rows)
        return rows

    def _take(self, row):
        self.best_row, self.best = row, dict(row["settings"])

    def _grid_stage(self, stage, grid, partition_stage):
        points = _grid(grid)
        rows = self._score(stage, [dict(self.best, **p) for p in points], partition_stage)
        if partition_stage:  # the thresholds of the best partition, whatever GQ they give
            self._take(max(rows, key=lambda r: r["GQ_clu"]))  # max: the first on a tie
            return
        top = max(range(len(rows)), key=lambda i: (rows[i]["GQ"], -i))
        # on a tie the current value stays (a setting changes only where it raises GQ)
        current = _current_values(self.base_cfg, self.best, grid)
        if current in points and rows[points.index(current)]["GQ"] >= rows[top]["GQ"]:
            top = points.index(current)
        if self.best_row is None or rows[top]["GQ"] >= self.best_row["GQ"]:
            self._take(rows[top])

    def _refine(self, stage, grid, objective, partition_stage):
        """
        Pattern search of the grid's :data:`REFINED_KEYS` around the best: each refinement tries
        every combination of each key's value, and that value minus and plus half its step (no
        further than the grid's ends); the first steps are the distances to the grid's
        neighbouring values. A key that moves keeps the distance it moved as its step, one that
        does not halves its step; the best changes only where the objective rises.
        """
        keys = [k for k in REFINED_KEYS if k in grid and len(grid[k]) > 1]
        if not keys or not self.refinements:
            return
        now = {k: float(v) for k, v in _current_values(self.base_cfg, self.best, keys).items()}
        steps = {}
        for k in keys:
            below = [now[k] - float(v) for v in grid[k] if float(v) < now[k]]
            above = [float(v) - now[k] for v in grid[k] if float(v) > now[k]]
            steps[k] = (min(below, default=0.0), min(above, default=0.0))
        for n in range(1, self.refinements + 1):
            options = {
                k: sorted({now[k] - lo / 2, now[k], now[k] + hi / 2})
                for k, (lo, hi) in steps.items()
            }
            points = [p for p in _grid(options) if p != now]
            if not points:
                return
            rows = self._score(
                f"{stage} refinement {n}", [dict(self.best, **p) for p in points], partition_stage
            )
            top = max(range(len(rows)), key=lambda i: rows[i][objective])  # the first on a tie
            rises = rows[top][objective] > self.best_row[objective]
            new = points[top] if rises else now
            for k in keys:
                d = abs(new[k] - now[k])
                steps[k] = (d, d) if d else (steps[k][0] / 2, steps[k][1] / 2)
            if rises:
                now = new
                self._take(rows[top])


def check_pair(cfg, identifier, clusterer):
    """
    Raise ValueError if the model of ``cfg`` cannot feed ``identifier`` (the DML identifiers need
    distance logits) or ``clusterer`` (its clustering branch), naming the config keys.
    """
    if identifier in DML_IDENTIFIERS and not cfg.MODEL.DML.ENABLED:
        raise ValueError(
            f"identifier {identifier!r} needs a DML model (MODEL.DML.ENABLED True): this model's "
            "logits are no distance logits"
        )
    if identifier == "n_plus_one" and cfg.MODEL.GOSS.TRAIN_MODE != "n_plus_one":
        raise ValueError("identifier 'n_plus_one' needs a model trained with TRAIN_MODE n_plus_one")
    needs = needed_branch(UNKNOWN_CLUSTERER_REGISTRY.get(clusterer))
    branch = cfg.MODEL.GOSS.CLUSTERING_BRANCH
    if needs is not None and needs != branch:
        raise ValueError(
            f"clusterer {clusterer!r} reads the {needs} clustering branch, but this model's "
            f"MODEL.GOSS.CLUSTERING_BRANCH is {branch!r}"
        )


def _short(settings):
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in settings.items())


def format_sweep(sweep):
    """The sweep as a table (one row per setting tried)."""
    keys = sorted({k for r in sweep for k in r["settings"]}, key=lambda k: k.split(".")[-1])
    varying = [k for k in keys if len({str(r["settings"].get(k)) for r in sweep}) > 1]
    metrics = ["GQ", "GQ_kn", "GQ_uk"] + (["GQ_clu"] if any("GQ_clu" in r for r in sweep) else [])
    rows = [
        [r["stage"], *(r["settings"].get(k) for k in varying)]
        + [f"{r[m]:.2f}" if m in r else "" for m in metrics]
        for r in sweep
    ]
    headers = ["stage", *(k.split(".")[-1] for k in varying), *metrics]
    return tabulate(rows, headers=headers, tablefmt="pipe")


def _nested(flat):
    out = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = list(value) if isinstance(value, tuple) else value
    return out


def write_calibrated_config(path, base_config, cfg, keys, header):
    """
    Write a config whose ``_BASE_`` is ``base_config`` and which sets ``keys`` to their values
    in ``cfg`` (atomically).

    Args:
        path (str): the YAML to write.
        base_config (str): the model's config file.
        cfg (CfgNode): holds the values to write.
        keys (list[str]): dotted config keys.
        header (str): comment lines at the top.
    """
    flat = _cfg_values(cfg, keys)
    base = os.path.relpath(os.path.abspath(base_config), os.path.dirname(os.path.abspath(path)))
    text = "".join(f"# {line}\n" for line in header.splitlines())
    text += yaml.safe_dump({"_BASE_": base}, default_flow_style=False)
    text += yaml.safe_dump(_nested(flat), default_flow_style=None, sort_keys=True)
    atomic_write_bytes(path, text.encode())
