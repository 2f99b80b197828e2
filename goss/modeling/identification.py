"""
Unknown-pixel identification (paper §4.1.2): MSP, MaxLogit and N+1 with confidence adjustment,
and the energy score (Liu et al., NeurIPS 2020).

Each identifier maps the logits of one image to train-id labels (known ``0..N-1``, unknown ``N``)
and an unknown score (higher = more unknown) for the OSS metrics.
"""

import torch

__all__ = [
    "IDENTIFIERS",
    "apply_threshold",
    "identification_scores",
    "identification_threshold",
    "identify_unknown",
]

IDENTIFIERS = ("msp", "max_logit", "energy", "n_plus_one")


def _msp(logits, num_known, beta):
    prob = logits[:num_known].softmax(dim=0)
    conf, labels = prob.max(dim=0)
    return labels, conf, 1.0 - conf


def _max_logit(logits, num_known, beta):
    # Min-max normalised over the whole image (the reference normalised per column: a bug).
    top, labels = logits[:num_known].max(dim=0)
    lo, hi = top.min(), top.max()
    norm = (top - lo) / (hi - lo) if hi > lo else torch.ones_like(top)
    return labels, norm, 1.0 - norm


def _energy(logits, num_known, beta):
    # Negative free energy logsumexp(known logits): absolute, so one threshold holds for every
    # image (unlike the per-image normalised MaxLogit).
    known = logits[:num_known]
    lse = torch.logsumexp(known, dim=0)
    return known.argmax(dim=0), lse, -lse


def _n_plus_one(logits, num_known, beta):
    if logits.shape[0] != num_known + 1:
        raise ValueError(
            f"the n_plus_one identifier needs N+1={num_known + 1} logits, got {logits.shape[0]} "
            "(train with MODEL.GOSS.TRAIN_MODE n_plus_one)"
        )
    prob = logits.softmax(dim=0)
    prob[num_known] *= beta  # confidence adjustment, no renormalisation (as the paper)
    return prob.argmax(dim=0), None, prob[num_known]


_FUNCS = {"msp": _msp, "max_logit": _max_logit, "energy": _energy, "n_plus_one": _n_plus_one}


def identification_scores(logits, num_known, method, beta=1.0):
    """
    The threshold-free part of :func:`identify_unknown`, for tools that try many thresholds.

    Returns:
        labels (Tensor): int64 ``[H, W]``, the argmax (``N`` included for ``n_plus_one``).
        confidence (Tensor or None): float ``[H, W]`` that a threshold applies to (MSP, normalised
            MaxLogit, logsumexp of the known logits); None for ``n_plus_one``, which has none.
        unknown_score (Tensor): float ``[H, W]``, higher = more unknown.
    """
    if method not in _FUNCS:
        raise ValueError(f"MODEL.GOSS.IDENTIFIER must be one of {IDENTIFIERS}, got {method!r}")
    if logits.dim() != 3 or logits.shape[0] < num_known:
        raise ValueError(f"logits must be [>= {num_known}, H, W], got {tuple(logits.shape)}")
    return _FUNCS[method](logits.float(), num_known, beta)


_THRESHOLD_KEYS = {
    "msp": "MSP_THRESHOLD",
    "max_logit": "MAX_LOGIT_THRESHOLD",
    "energy": "ENERGY_THRESHOLD",
}


def identification_threshold(goss_cfg):
    """
    The threshold ``goss_cfg.IDENTIFIER`` applies, read from the ``cfg.MODEL.GOSS`` node
    (``n_plus_one`` has none: None).
    """
    key = _THRESHOLD_KEYS.get(goss_cfg.IDENTIFIER)
    return None if key is None else float(goss_cfg[key])


def apply_threshold(labels, confidence, threshold, num_known):
    """``labels`` with pixels whose ``confidence`` is below ``threshold`` set to ``N`` (a copy)."""
    if confidence is None:
        return labels
    return torch.where(confidence < threshold, num_known, labels)


def identify_unknown(logits, num_known, method, threshold=0.5, beta=1.0):
    """
    Args:
        logits (Tensor): ``[N or N+1, H, W]`` semantic logits of one image (padding removed).
        num_known (int): N.
        method (str): one of :data:`IDENTIFIERS`.
        threshold (float): the MSP / normalised MaxLogit / energy threshold below which a pixel
            is unknown (unused by ``n_plus_one``).
        beta (float): confidence-adjustment factor on the unknown probability (N+1).
    Returns:
        labels (Tensor): int64 ``[H, W]``, known ``0..N-1``, unknown ``N``.
        unknown_score (Tensor): float ``[H, W]``, higher = more unknown.
    """
    labels, confidence, unknown_score = identification_scores(logits, num_known, method, beta)
    return apply_threshold(labels, confidence, threshold, num_known), unknown_score
