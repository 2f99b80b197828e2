"""
Per-image GQ statistics: panoptic-quality matching of one prediction against one ground truth.

One joint histogram per image gives every intersection, segment area and void overlap at once;
matching then works on that small ``[Kg, Kp]`` matrix. The histogram comes from one compiled pass
over the pixels (``torch.ops.goss.joint_histogram``) when ``goss._C`` is built, else from NumPy
(``np.bincount`` over ``gt_index * Kp + pred_index`` after remapping segment ids to contiguous
indices); both give the same counts and the same errors.

Rules (``docs/evaluation.md``): same category and IoU strictly > 0.5; GT-void pixels are
removed from the union; an unmatched prediction lying more than 50% on GT-void (plus
same-category crowd GT) is not a false positive; predicted void is never a segment; crowd GT
segments are never matched.
"""

import numpy as np

__all__ = [
    "GQStats",
    "image_stats",
    "pixel_pass_backend",
    "remap_ids",
    "segments_from_info",
    "stats_from_joint",
]


class GQStats:
    """
    Additive per-category statistics (over images and processes).

    Attributes:
        tp, fp, fn (ndarray): int64 ``[C]`` counts per category.
        iou (ndarray): float64 ``[C]`` sum of IoUs of the true positives.
        confusion (ndarray): int64 ``[C, C + 1]`` pixel confusion ``[gt_category, pred_category]``
            over GT-non-void pixels; the last column counts pixels predicted void.
    """

    def __init__(self, num_categories):
        self.num_categories = int(num_categories)
        c = self.num_categories
        self.tp = np.zeros(c, dtype=np.int64)
        self.fp = np.zeros(c, dtype=np.int64)
        self.fn = np.zeros(c, dtype=np.int64)
        self.iou = np.zeros(c, dtype=np.float64)
        self.confusion = np.zeros((c, c + 1), dtype=np.int64)

    def _check(self, other):
        if not isinstance(other, GQStats) or other.num_categories != self.num_categories:
            raise TypeError(
                f"cannot add {other!r} to GQStats with {self.num_categories} categories"
            )

    def __iadd__(self, other):
        self._check(other)
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.iou += other.iou
        self.confusion += other.confusion
        return self

    def __add__(self, other):
        out = GQStats(self.num_categories)
        out += self
        out += other
        return out

    def __radd__(self, other):
        # lets sum() start from 0
        if other == 0:
            return self + GQStats(self.num_categories)
        return self.__add__(other)

    def __eq__(self, other):
        return (
            isinstance(other, GQStats)
            and other.num_categories == self.num_categories
            and np.array_equal(self.tp, other.tp)
            and np.array_equal(self.fp, other.fp)
            and np.array_equal(self.fn, other.fn)
            and np.allclose(self.iou, other.iou, rtol=0, atol=1e-9)
            and np.array_equal(self.confusion, other.confusion)
        )

    def __repr__(self):
        return (
            f"GQStats(C={self.num_categories}, TP={self.tp.sum()}, FP={self.fp.sum()}, "
            f"FN={self.fn.sum()}, IoU={self.iou.sum():.4f})"
        )

    def as_array(self):
        """``[C, 4]`` float64: TP, FP, FN, IoU sum (for bootstrapping over images)."""
        return np.stack([self.tp, self.fp, self.fn, self.iou], axis=1).astype(np.float64)


def segments_from_info(segments_info, num_categories=None, where="segments_info"):
    """
    The one check of a ``segments_info`` list (every reader of one calls this).

    Args:
        segments_info (list[dict]): ``id`` and ``category_id`` (integers) and optionally
            ``iscrowd`` (0, 1 or a bool; default 0).
        num_categories (int or None): valid category ids are ``0..num_categories-1``; None
            checks the structure only.
        where (str): names the image/file in error messages.
    Returns:
        ids (ndarray int64 [S]), categories (ndarray int64 [S]), crowd (ndarray bool [S]).
    Raises:
        ValueError naming ``where`` and the field, e.g. ``segments_info[2].category_id``.
    """
    if not isinstance(segments_info, (list, tuple)):
        raise ValueError(f"{where}: segments_info must be a list, got {_describe(segments_info)}")
    ids, cats, crowd = [], [], []
    for k, seg in enumerate(segments_info):
        if not isinstance(seg, dict):
            raise ValueError(
                f"{where}: segments_info[{k}] must be an object with id and category_id, "
                f"got {_describe(seg)}"
            )
        ids.append(_integer_field(seg, "id", k, where))
        cats.append(_integer_field(seg, "category_id", k, where))
        crowd.append(_crowd_field(seg, k, where))
    # plain Python on the (short) lists: cheaper than NumPy calls on tiny arrays
    if num_categories is not None and cats and (min(cats) < 0 or max(cats) >= num_categories):
        bad = sorted({k for k in cats if not 0 <= k < num_categories})
        raise ValueError(f"{where}: category id(s) {bad} outside 0..{num_categories - 1}")
    if len(set(ids)) != len(ids):
        raise ValueError(f"{where}: duplicate segment ids")
    return (
        np.array(ids, dtype=np.int64),
        np.array(cats, dtype=np.int64),
        np.array(crowd, dtype=bool),
    )


def _describe(value, limit=40):
    """A short JSON-minded description of a bad value for error messages."""
    if value is None:
        return "null"
    text = repr(value)
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def _integer_field(seg, key, k, where):
    if key not in seg:
        raise ValueError(f"{where}: segments_info[{k}] has no '{key}'")
    value = seg[key]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"{where}: segments_info[{k}].{key} must be an integer, got {_describe(value)}"
        )
    return int(value)


def _crowd_field(seg, k, where):
    value = seg.get("iscrowd", 0)
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, np.integer)) and value in (0, 1)
    ):
        return bool(value)
    raise ValueError(
        f"{where}: segments_info[{k}].iscrowd must be 0, 1 or a bool, got {_describe(value)}"
    )


def remap_ids(id_map, keys, where="id map", scale=1):
    """
    Map every pixel id to ``scale`` times its index in ``keys``, vectorised (no sort of the
    pixels): a lookup table over the id range when it is small, else a collision-free
    bit-field hash of the keys whose hits are verified against the keys.

    Args:
        id_map (ndarray): integer ``[H, W]`` ids.
        keys (ndarray): int64 ``[K]`` distinct allowed ids.
        where (str): names the image/file in error messages.
        scale (int): multiplier of the returned indices.
    Returns:
        ndarray int64 ``[H * W]``: ``scale * index`` into ``keys``.
    Raises:
        ValueError naming the ids that are not in ``keys``.
    """
    ids = np.asarray(id_map).reshape(-1)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"{where}: id map must be integer, got {ids.dtype}")
    ids = ids.astype(np.int64, copy=False)
    keys = np.asarray(keys, dtype=np.int64)
    values = np.arange(len(keys), dtype=np.int64) * scale
    lo, hi = int(ids.min()), int(ids.max())
    k_lo = int(keys.min())
    if hi - min(lo, k_lo) < max(4 * ids.size, 1 << 16):
        base = min(lo, k_lo)
        table = np.full(max(hi, int(keys.max())) - base + 1, -1, dtype=np.int64)
        table[keys - base] = values
        index = np.take(table, ids - base if base else ids)
        bad = index < 0 if index.min() < 0 else None
    else:
        shift, mask = _field_hash(keys)
        slot = (ids >> shift) & mask
        table = np.zeros(mask + 1, dtype=np.int64)
        table[(keys >> shift) & mask] = values
        key_at = np.full(mask + 1, -1, dtype=np.int64)
        key_at[(keys >> shift) & mask] = keys
        index = np.take(table, slot)
        mismatch = np.take(key_at, slot) != ids
        bad = mismatch if mismatch.any() else None
    if bad is not None:
        raise _missing_error(np.unique(ids[bad]), where)
    return index


def _field_hash(keys):
    """(shift, mask) such that ``(keys >> shift) & mask`` are distinct (keys >= 0 assumed)."""
    if (keys < 0).any():
        raise ValueError("negative segment ids need a small id range")
    bits = max(int(np.ceil(np.log2(4 * len(keys) + 1))), 8)
    while bits <= 22:
        mask = (1 << bits) - 1
        for shift in range(0, 40):
            if len(np.unique((keys >> shift) & mask)) == len(keys):
                return shift, mask
        bits += 1
    raise ValueError("cannot hash the segment ids")  # unreachable for distinct ids < 2^62


def image_stats(
    gt_ids,
    gt_segments,
    pred_ids,
    pred_segments,
    num_categories,
    gt_void=0,
    pred_void=0,
    where="image",
    return_matches=False,
):
    """
    Statistics of one image.

    Args:
        gt_ids (ndarray): integer ``[H, W]`` GT segment ids; ``gt_void`` marks void.
        gt_segments (list[dict]): GT ``segments_info`` (``id``, ``category_id``, ``iscrowd``).
        pred_ids (ndarray): integer ``[H, W]`` predicted segment ids; ``pred_void`` = no segment.
        pred_segments (list[dict]): predicted ``segments_info`` (``id``, ``category_id``).
        num_categories (int): C; category ids are ``0..C-1``.
        gt_void, pred_void (int): void id of each map (never listed as a segment).
        where (str): names the image in error messages.
        return_matches (bool): also return the per-segment matching (see :func:`stats_from_joint`).
    Returns:
        GQStats, or (GQStats, dict) with ``return_matches``.
    """
    gt_ids = np.asarray(gt_ids)
    pred_ids = np.asarray(pred_ids)
    if gt_ids.shape != pred_ids.shape or gt_ids.ndim != 2:
        raise ValueError(
            f"{where}: GT id map {gt_ids.shape} and prediction {pred_ids.shape} differ in size"
        )
    g_id, g_cat, g_crowd = segments_from_info(gt_segments, num_categories, f"{where} (GT)")
    p_id, p_cat, _ = segments_from_info(pred_segments, num_categories, f"{where} (prediction)")
    if (g_id == gt_void).any() or (p_id == pred_void).any():
        raise ValueError(f"{where}: the void id is listed as a segment")
    g_keys = np.concatenate([[gt_void], g_id])  # index 0 = void
    p_keys = np.concatenate([[pred_void], p_id])
    joint = _joint_histogram(gt_ids, g_keys, pred_ids, p_keys, where)
    return stats_from_joint(joint, g_cat, g_crowd, p_cat, num_categories, where, return_matches)


def pixel_pass_backend():
    """
    Returns:
        str: ``"compiled"`` if image_stats counts pixels with ``torch.ops.goss.joint_histogram``,
        ``"numpy"`` if it uses the NumPy fallback (``goss._C`` not built).
    """
    return "compiled" if _compiled_available() else "numpy"


def _compiled_available():
    """Whether the compiled pixel pass can be used (cached; tests replace this function)."""
    from goss.layers.joint_histogram import joint_histogram_available

    return joint_histogram_available()


def _joint_histogram(gt_ids, g_keys, pred_ids, p_keys, where):
    """
    Args:
        gt_ids, pred_ids (ndarray): ``[H, W]`` id maps.
        g_keys, p_keys (ndarray): int64 ``[Kg]`` / ``[Kp]`` distinct ids, void first.
    Returns:
        ndarray int64 ``[Kg, Kp]``: pixel counts of every (GT key, predicted key) pair.
    Raises:
        ValueError naming the ids that are not keys (GT checked first) or a non-integer map.
    """
    if gt_ids.dtype.kind in "iu" and pred_ids.dtype.kind in "iu" and _compiled_available():
        return _joint_compiled(gt_ids, g_keys, pred_ids, p_keys, where)
    return _joint_numpy(gt_ids, g_keys, pred_ids, p_keys, where)


def _joint_compiled(gt_ids, g_keys, pred_ids, p_keys, where):
    """_joint_histogram in one compiled pass (integer maps, goss._C built)."""
    from goss.layers.joint_histogram import joint_histogram

    joint, gt_missing, pred_missing = joint_histogram(gt_ids, g_keys, pred_ids, p_keys)
    if gt_missing:
        raise _missing_ids_error(gt_ids, g_keys, f"{where} (GT)")
    if pred_missing:
        raise _missing_ids_error(pred_ids, p_keys, f"{where} (prediction)")
    return joint


def _joint_numpy(gt_ids, g_keys, pred_ids, p_keys, where):
    """_joint_histogram with NumPy: both maps remapped to key indices, one ``np.bincount``."""
    kg, kp = len(g_keys), len(p_keys)
    packed = remap_ids(gt_ids, g_keys, f"{where} (GT)", scale=kp)
    packed += remap_ids(pred_ids, p_keys, f"{where} (prediction)")
    return np.bincount(packed, minlength=kg * kp).reshape(kg, kp)


def _missing_ids_error(id_map, keys, where):
    """The ValueError naming (up to 10 of) the ids of ``id_map`` that are not in ``keys``."""
    ids = np.asarray(id_map).reshape(-1).astype(np.int64, copy=False)
    return _missing_error(np.unique(ids[~np.isin(ids, keys)]), where)


def _missing_error(missing, where):
    return ValueError(
        f"{where}: segment id(s) {missing[:10].tolist()} in the id map are not in segments_info"
    )


def stats_from_joint(
    joint, g_cat, g_crowd, p_cat, num_categories, where="image", return_matches=False
):
    """
    Args:
        joint (ndarray): int64 ``[1 + Sg, 1 + Sp]`` pixel counts; row/column 0 is void.
        g_cat, g_crowd (ndarray): ``[Sg]`` GT categories and crowd flags.
        p_cat (ndarray): ``[Sp]`` predicted categories.
        return_matches (bool): also return the per-segment matching.
    Returns:
        GQStats, or (GQStats, dict) with ``return_matches``: the dict holds, in segments_info
        order, ``gt_category``, ``gt_crowd``, ``gt_area`` and ``pred_category``, ``pred_area``
        ``[Sp]``; ``gt_matched`` bool and ``gt_iou`` float ``[Sg]`` (IoU of the match, else 0);
        ``pred_fp`` bool ``[Sp]`` (the prediction counts as a false positive).
    """
    c = num_categories
    g_area = joint.sum(axis=1)[1:]
    p_area = joint.sum(axis=0)[1:]
    if not (g_area.all() and p_area.all()):
        for kind, area in (("GT", g_area), ("prediction", p_area)):
            if (area == 0).any():
                raise ValueError(
                    f"{where}: {int((area == 0).sum())} {kind} segment(s) in segments_info have "
                    "no pixel in the id map"
                )
    inter = joint[1:, 1:]
    void_p = joint[0, 1:]
    stats = GQStats(c)
    match = np.zeros(len(g_cat), dtype=bool)
    iou = np.zeros(len(g_cat), dtype=np.float64)
    p_unmatched = np.ones(len(p_cat), dtype=bool)
    if inter.size:
        # IoU > 0.5 needs more than half of the GT segment's pixels (the union, GT void removed,
        # still covers the GT segment), so a GT segment can only match the prediction holding
        # most of its pixels: one candidate per row, and a prediction matches at most one row.
        best = inter.argmax(axis=1)
        best_inter = inter[np.arange(len(best)), best]
        iou = best_inter / (p_area[best] + g_area - best_inter - void_p[best])  # union > 0
        match = (iou > 0.5) & (g_cat == p_cat[best]) & ~g_crowd
        m_cat = g_cat[match]
        stats.tp += np.bincount(m_cat, minlength=c)
        stats.iou += np.bincount(m_cat, weights=iou[match], minlength=c)
        p_unmatched[best[match]] = False
    stats.fn += np.bincount(g_cat[~match & ~g_crowd], minlength=c)
    # unmatched predictions: ignored if > 50% on GT void + same-category crowd GT
    on_void = void_p
    if g_crowd.any():
        crowd = np.flatnonzero(g_crowd)
        on_void = void_p + ((g_cat[crowd, None] == p_cat[None, :]) * inter[crowd]).sum(axis=0)
    ignored = on_void / p_area > 0.5
    stats.fp += np.bincount(p_cat[p_unmatched & ~ignored], minlength=c)
    # pixel confusion over GT-non-void pixels, predicted void in the last column
    p_cat_v = np.concatenate([[c], p_cat])
    stats.confusion += (
        np.bincount(
            (g_cat[:, None] * (c + 1) + p_cat_v[None, :]).reshape(-1),
            weights=joint[1:, :].reshape(-1),
            minlength=c * (c + 1),
        )
        .astype(np.int64)
        .reshape(c, c + 1)
    )
    if not return_matches:
        return stats
    matches = {
        "gt_category": g_cat,
        "gt_crowd": g_crowd,
        "gt_area": g_area,
        "gt_matched": match,
        "gt_iou": np.where(match, iou, 0.0),
        "pred_category": p_cat,
        "pred_area": p_area,
        "pred_fp": p_unmatched & ~ignored,
    }
    return stats, matches
