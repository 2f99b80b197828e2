"""Detectron2 ``DatasetEvaluator`` for GOSS: GQ, GQ_kn, GQ_uk, SQ/RQ, mIoU, GQ_clu, OSS metrics."""

import logging

import numpy as np
import torch

from detectron2.data import MetadataCatalog
from detectron2.evaluation import DatasetEvaluator
from detectron2.utils import comm

from ..utils.panoptic_ids import LABEL_DIVISOR, decode_goss_ids
from .accumulator import GQAccumulator
from .components import SMIYC_MIN_GT_SIZE
from .io import read_id_png
from .report import format_components, format_diagnostics, format_tables, write_results

__all__ = ["GQEvaluator", "panoptic_to_segments"]

logger = logging.getLogger(__name__)


def panoptic_to_segments(panoptic, label_divisor, num_categories, where="prediction"):
    """
    Args:
        panoptic (ndarray): int ``[H, W]`` GOSS ids ``category * label_divisor + cluster``,
            void -1 (see :mod:`goss.utils.panoptic_ids`).
    Returns:
        list[dict]: one ``{id, category_id}`` per distinct non-void id.
    """
    ids, cats, _ = decode_goss_ids(panoptic, label_divisor, num_categories, where)
    return [{"id": int(i), "category_id": int(c)} for i, c in zip(ids, cats)]


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


class GQEvaluator(DatasetEvaluator):
    """
    Evaluates GOSS outputs with the GQ metric (the rules: ``docs/evaluation.md``). Metadata of
    ``dataset_name``: ``stuff_classes`` (N known names + "unknown") and ``label_divisor`` (how the
    predicted panoptic ids are decoded). ``num_known`` and ``label_divisor``, when given, are what
    the model was built with (``MODEL.GOSS.NUM_KNOWN_CLASSES``, ``MODEL.GOSS.LABEL_DIVISOR``): a
    value that disagrees with the metadata is an error, not a silent mis-decoding.

    Each output of ``process`` holds ``panoptic_seg`` = (int ``[H, W]`` ids, None), optional
    ``unknown_score`` float ``[H, W]`` (higher = more unknown) and optional ``clusters`` int
    ``[H, W]`` (whole-image partition, for GQ_clu) and optional ``bpd_field`` float
    ``[2, H, W]`` (the clustering branch's field, for the field diagnostics). The GT is the input's
    ``pan_seg_file_name`` PNG and ``segments_info`` (train-id categories, id 0 = void).

    Besides the GQ rows it reports the diagnostic rows of
    :mod:`goss.evaluation.diagnostics` (oracle identification x clusterings, size buckets, field
    quality); ``clusterer`` is the model's unknown clusterer, which the oracle row
    ``oracle_id_model_clusters`` applies to the GT unknown mask. ``diagnostics=False`` skips them
    (they cost a GT BPD field per image).

    It also reports the SegmentMeIfYouCan component metrics of the unknown class
    (:mod:`goss.evaluation.components`: ``sIoU_uk``, ``PPV_uk``, ``mF1_uk``, ...) for the model's
    unknown segments and, with ``smiyc_score_threshold``, for the connected components of
    ``unknown_score > smiyc_score_threshold`` (keys ``*_thresholded``); ``smiyc_min_gt_size``
    and ``smiyc_min_pred_size`` are the component sizes below which GT components become void
    and predicted ones are dropped.
    """

    def __init__(
        self,
        dataset_name,
        output_dir=None,
        distributed=True,
        bootstrap_samples=1000,
        seed=0,
        lam=0.5,
        clusterer=None,
        diagnostics=True,
        smiyc_min_gt_size=SMIYC_MIN_GT_SIZE,
        smiyc_min_pred_size=0,
        smiyc_score_threshold=None,
        num_known=None,
        label_divisor=None,
    ):
        meta = MetadataCatalog.get(dataset_name)
        classes = getattr(meta, "stuff_classes", None)
        if not classes or len(classes) < 2:
            raise ValueError(f"dataset {dataset_name!r}: metadata needs stuff_classes (N + 1)")
        self._dataset_name = dataset_name
        self._class_names = list(classes)
        self._num_known = len(classes) - 1
        if num_known is not None and num_known != self._num_known:
            raise ValueError(
                f"GQEvaluator: num_known is {num_known} but dataset {dataset_name!r} has "
                f"{self._num_known} known classes (stuff_classes has {len(classes)} names)"
            )
        meta_divisor = getattr(meta, "label_divisor", None)
        if None not in (label_divisor, meta_divisor) and label_divisor != meta_divisor:
            raise ValueError(
                f"GQEvaluator: label_divisor is {label_divisor} but dataset {dataset_name!r} has "
                f"label_divisor {meta_divisor} in its metadata: the model's panoptic ids would be "
                "mis-decoded"
            )
        if meta_divisor is None:  # a dataset registered without it: the caller's, else the default
            meta_divisor = LABEL_DIVISOR if label_divisor is None else label_divisor
        self._label_divisor = int(meta_divisor)
        self._output_dir = output_dir
        self._distributed = distributed
        self._bootstrap = bootstrap_samples
        self._seed = seed
        self._lam = lam
        self._clusterer = clusterer
        self._diagnostics = diagnostics
        self._smiyc = {
            "smiyc_min_gt_size": smiyc_min_gt_size,
            "smiyc_min_pred_size": smiyc_min_pred_size,
            "smiyc_score_threshold": smiyc_score_threshold,
        }
        self.reset()

    def _new_accumulator(self):
        return GQAccumulator(self._num_known, self._class_names, self._diagnostics, **self._smiyc)

    def reset(self):
        self._acc = self._new_accumulator()

    def process(self, inputs, outputs):
        for inp, out in zip(inputs, outputs):
            where = f"image_id {inp.get('image_id')!r} ({inp.get('file_name', '?')})"
            gt_path = inp.get("pan_seg_file_name")
            if gt_path is None or "segments_info" not in inp:
                raise ValueError(f"{where}: input needs pan_seg_file_name and segments_info")
            gt_ids = read_id_png(gt_path)
            if "panoptic_seg" not in out:
                raise ValueError(f"{where}: output has no 'panoptic_seg'")
            pan = out["panoptic_seg"]
            pan = _to_numpy(pan[0] if isinstance(pan, (tuple, list)) else pan).astype(np.int64)
            segments = panoptic_to_segments(
                pan, self._label_divisor, self._num_known + 1, f"{where} (panoptic_seg)"
            )
            score = out.get("unknown_score")
            clusters = out.get("clusters")
            field = out.get("bpd_field")
            self._acc.add_image(
                inp.get("image_id"),
                gt_ids,
                inp["segments_info"],
                pan,
                segments,
                pred_void=-1,
                unknown_score=None if score is None else _to_numpy(score).astype(np.float32),
                clusters=None if clusters is None else _to_numpy(clusters).astype(np.int64),
                where=where,
                field=None if field is None else _to_numpy(field).astype(np.float32),
                clusterer=self._clusterer,
            )

    def evaluate(self):
        acc = self._acc
        if self._distributed:
            comm.synchronize()
            parts = comm.gather(acc, dst=0)
            if not comm.is_main_process():
                return {}
            acc = self._new_accumulator()
            for p in parts:
                acc += p
        if not acc.images:
            logger.warning("GQEvaluator: no images were processed")
            return {}
        results, per_class = acc.summarize(self._lam, self._bootstrap, self._seed)
        summary, table = format_tables(results, per_class)
        logger.info(
            "GOSS evaluation on %s (%d images):\n%s\n%s\n%s",
            self._dataset_name,
            results["num_images"],
            table,
            summary,
            format_components(results),
        )
        if self._diagnostics:
            logger.info(
                "GOSS diagnostics on %s:\n%s", self._dataset_name, format_diagnostics(results)
            )
        if self._output_dir:
            write_results(self._output_dir, results, per_class, acc.per_image_rows())
        # Detectron2 prints every value with "{:.4f}": leave out lists (CIs) and undefined ones
        flat = {k: v for k, v in results.items() if not isinstance(v, list) and v is not None}
        return {"goss": flat}
