"""
Unknown-pixel identification (paper §4.1.2): MSP, MaxLogit and N+1 with confidence adjustment,
the energy score (Liu et al., NeurIPS 2020), and DMLNet's distance scores (Cen et al., ICCV 2021)
for a DML model, whose logits are ``-gamma * ||e - p_c||^2`` (:mod:`goss.modeling.dml`).

Each identifier maps the logits of one image to train-id labels (known ``0..N-1``, unknown ``N``)
and an unknown score (higher = more unknown) for the OSS metrics. :class:`UnknownIdentifier` is
one configured identifier (method, N, threshold, beta), built once from the config for the model
and the calibration tool alike.
"""

import torch

__all__ = [
    "DML_IDENTIFIERS",
    "IDENTIFIERS",
    "UnknownIdentifier",
    "apply_threshold",
    "check_identifier",
    "identification_scores",
    "identification_threshold",
    "identify_unknown",
]

IDENTIFIERS = ("msp", "max_logit", "energy", "n_plus_one", "dml", "eds")
# the identifiers that read distance logits: they need a DML model (MODEL.DML.ENABLED)
DML_IDENTIFIERS = ("dml", "eds")
# DMLNet's fusion of EDS and metric-MSP: alpha = sigmoid(SHARPNESS * (p_eds - CENTER))
_DML_FUSION_SHARPNESS = 20.0
_DML_FUSION_CENTER = 0.8


# The scores of the thresholded identifiers read the known-class logits ``[N, H, W]`` only.


def _msp(known):
    prob = known.softmax(dim=0)
    conf, labels = prob.max(dim=0)
    return labels, conf, 1.0 - conf


def _max_logit(known):
    # Min-max normalised over the whole image (the reference normalised per column: a bug).
    top, labels = known.max(dim=0)
    lo, hi = top.min(), top.max()
    norm = (top - lo) / (hi - lo) if hi > lo else torch.ones_like(top)
    return labels, norm, 1.0 - norm


def _energy(known):
    # Negative free energy logsumexp(known logits): absolute, so one threshold holds for every
    # image (unlike the per-image normalised MaxLogit).
    lse = torch.logsumexp(known, dim=0)
    return known.argmax(dim=0), lse, -lse


def _eds_unknown(known):
    """
    DMLNet's Euclidean distance sum as an unknown probability: ``S = sum_c ||e - p_c||^2`` is
    small for an embedding amid the prototypes (where unknown objects land) and large for one
    at a prototype, far from the others; ``p_eds = 1 - S / max S`` over the image, in [0, 1].
    From distance logits ``l_c = -gamma * d_c^2``, ``S = -sum_c l_c / gamma``: gamma cancels.
    """
    dist_sum = (-known).sum(dim=0).clamp(min=0)
    top = dist_sum.max()
    return 1.0 - dist_sum / top if top > 0 else torch.zeros_like(dist_sum)


def _eds(known):
    unknown = _eds_unknown(known)
    return known.argmax(dim=0), 1.0 - unknown, unknown


def _dml(known):
    # DMLNet's fused score: EDS where it is confident (p_eds well above CENTER), the metric-based
    # MSP (the softmax of the distance logits) elsewhere, mixed by a sigmoid weight.
    p_eds = _eds_unknown(known)
    conf, labels = known.softmax(dim=0).max(dim=0)
    alpha = torch.sigmoid(_DML_FUSION_SHARPNESS * (p_eds - _DML_FUSION_CENTER))
    unknown = alpha * p_eds + (1.0 - alpha) * (1.0 - conf)
    return labels, 1.0 - unknown, unknown


def _n_plus_one(logits, num_known, beta):
    # the one identifier that reads the unknown logit, and the only one with a beta
    if logits.shape[0] != num_known + 1:
        raise ValueError(
            f"the n_plus_one identifier needs N+1={num_known + 1} logits, got {logits.shape[0]} "
            "(train with MODEL.GOSS.TRAIN_MODE n_plus_one)"
        )
    prob = logits.softmax(dim=0)
    prob[num_known] *= beta  # confidence adjustment, no renormalisation (as the paper)
    return prob.argmax(dim=0), None, prob[num_known]


# the thresholded identifiers -> their score function of the known logits (n_plus_one, which
# reads every logit and beta, is called apart: see identification_scores)
_KNOWN_SCORES = {
    "msp": _msp,
    "max_logit": _max_logit,
    "energy": _energy,
    "dml": _dml,
    "eds": _eds,
}


def identification_scores(logits, num_known, method, beta=1.0):
    """
    The threshold-free part of :func:`identify_unknown`, for tools that try many thresholds.

    Returns:
        labels (Tensor): int64 ``[H, W]``, the argmax (``N`` included for ``n_plus_one``).
        confidence (Tensor or None): float ``[H, W]`` that a threshold applies to (MSP, normalised
            MaxLogit, logsumexp of the known logits, 1 - the DML / EDS unknown score); None for
            ``n_plus_one``, which has none.
        unknown_score (Tensor): float ``[H, W]``, higher = more unknown.
    """
    _check_method(method)
    if logits.dim() != 3 or logits.shape[0] < num_known:
        raise ValueError(f"logits must be [>= {num_known}, H, W], got {tuple(logits.shape)}")
    logits = logits.float()
    if method == "n_plus_one":
        return _n_plus_one(logits, num_known, beta)
    return _KNOWN_SCORES[method](logits[:num_known])


def _check_method(method):
    if method not in IDENTIFIERS:
        raise ValueError(f"MODEL.GOSS.IDENTIFIER must be one of {IDENTIFIERS}, got {method!r}")


_THRESHOLD_KEYS = {
    "msp": "MSP_THRESHOLD",
    "max_logit": "MAX_LOGIT_THRESHOLD",
    "energy": "ENERGY_THRESHOLD",
    "dml": "DML_THRESHOLD",
    "eds": "EDS_THRESHOLD",
}


def identification_threshold(goss_cfg):
    """
    The threshold ``goss_cfg.IDENTIFIER`` applies, read from the ``cfg.MODEL.GOSS`` node
    (``n_plus_one`` has none: None).
    """
    key = _THRESHOLD_KEYS.get(goss_cfg.IDENTIFIER)
    return None if key is None else float(goss_cfg[key])


def check_identifier(cfg):
    """
    Raise if ``cfg.MODEL.GOSS.IDENTIFIER`` cannot read the logits of the model ``cfg`` builds
    (the DML identifiers need distance logits).
    """
    ident = cfg.MODEL.GOSS.IDENTIFIER
    _check_method(ident)
    if ident in DML_IDENTIFIERS and not cfg.MODEL.DML.ENABLED:
        raise ValueError(
            f"MODEL.GOSS.IDENTIFIER {ident!r} reads distance logits: it needs a DML model "
            "(MODEL.DML.ENABLED True)"
        )


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
    return UnknownIdentifier(method, num_known, threshold, beta)(logits)


class UnknownIdentifier:
    """
    One configured identifier: ``logits [N(+1), H, W] -> (labels [H, W], unknown_score [H, W])``
    (see :func:`identify_unknown`), holding its method, N, threshold and beta.
    """

    def __init__(self, method, num_known, threshold=None, beta=1.0):
        """
        Args:
            method (str): one of :data:`IDENTIFIERS`.
            num_known (int): N.
            threshold (float or None): the threshold on the confidence below which a pixel is
                unknown (None for ``n_plus_one``, which has no confidence).
            beta (float): the N+1 confidence adjustment (read by ``n_plus_one`` only).
        """
        _check_method(method)
        if threshold is None and method != "n_plus_one":
            raise ValueError(f"the {method!r} identifier needs a threshold")
        self.method = method
        self.num_known = num_known
        self.threshold = threshold
        self.beta = beta

    @classmethod
    def from_config(cls, cfg):
        """The identifier ``cfg.MODEL.GOSS`` configures, checked against the model of ``cfg``."""
        check_identifier(cfg)
        g = cfg.MODEL.GOSS
        return cls(
            g.IDENTIFIER, g.NUM_KNOWN_CLASSES, identification_threshold(g), g.CONFIDENCE_ADJUSTMENT
        )

    def scores(self, logits):
        """
        The threshold-free part (:func:`identification_scores`): ``(labels [H, W], confidence
        [H, W] or None, unknown_score [H, W])``.
        """
        return identification_scores(logits, self.num_known, self.method, self.beta)

    def __call__(self, logits):
        """
        Args:
            logits (Tensor): ``[N or N+1, H, W]`` semantic logits of one image.
        Returns:
            labels (Tensor): int64 ``[H, W]``, known ``0..N-1``, unknown ``N``.
            unknown_score (Tensor): float ``[H, W]``, higher = more unknown.
        """
        labels, confidence, unknown_score = self.scores(logits)
        return apply_threshold(labels, confidence, self.threshold, self.num_known), unknown_score

    def __repr__(self):
        return (
            f"UnknownIdentifier(method={self.method!r}, num_known={self.num_known}, "
            f"threshold={self.threshold}, beta={self.beta})"
        )
