"""GOSS config keys. Every key carries a comment; ``tests/test_config.py`` enforces it."""

import torch

from detectron2.config import CfgNode as CN
from detectron2.config import get_cfg
from detectron2.projects.deeplab import add_deeplab_config

from .utils.panoptic_ids import LABEL_DIVISOR

__all__ = ["add_goss_config", "get_goss_cfg"]


def add_goss_config(cfg):
    """
    Add the GOSS keys (on top of DeepLab's) to a Detectron2 config, in place.

    Args:
        cfg (CfgNode): usually ``detectron2.config.get_cfg()``.
    """
    add_deeplab_config(cfg)
    # Paper training defaults (Adam, lr 5e-5, poly 0.9, no weight decay); leaf configs may change.
    cfg.SOLVER.OPTIMIZER = "ADAM"  # "ADAM" (paper) or "SGD"
    cfg.SOLVER.BASE_LR = 5e-5  # paper: Adam, initial LR 5e-5
    cfg.SOLVER.WEIGHT_DECAY = 0.0  # paper: no weight decay
    cfg.SOLVER.LR_SCHEDULER_NAME = "WarmupPolyLR"  # poly schedule from add_deeplab_config
    cfg.SOLVER.POLY_LR_POWER = 0.9  # paper: poly power 0.9
    cfg.SOLVER.WARMUP_ITERS = 0  # the reference uses no warm-up

    # Identification, fusion and training-mode options of the GOSS meta-architecture.
    cfg.MODEL.GOSS = CN()
    # Semantic training mode: "n" (unknown/void pixels ignored, N outputs) or "n_plus_one"
    # (void pixels trained as an extra class N, N+1 outputs).
    cfg.MODEL.GOSS.TRAIN_MODE = "n"
    # n_plus_one: the source's void pixels are class N (True, the paper's N+1-model) or ignored
    # (False: class N is learnt only from the outliers of INPUT.OUTLIER_PASTE, which it needs).
    cfg.MODEL.GOSS.VOID_AS_UNKNOWN = True
    # Number of known classes N (the semantic head has N or N+1 outputs, per TRAIN_MODE).
    cfg.MODEL.GOSS.NUM_KNOWN_CLASSES = 11
    # Test-time unknown identification: "msp", "max_logit", "energy", "n_plus_one", or for a DML
    # model (MODEL.DML.ENABLED) "dml" (DMLNet's EDS + metric-MSP fusion) or "eds" (EDS alone);
    # "msp" on a DML model is DMLNet's metric-based MSP (its logits are -gamma * distance^2).
    cfg.MODEL.GOSS.IDENTIFIER = "msp"
    # MSP: a pixel whose max softmax probability is below this threshold is unknown.
    cfg.MODEL.GOSS.MSP_THRESHOLD = 0.5
    # MaxLogit: a pixel whose max logit, min-max normalised over the whole image, is below this
    # threshold is unknown (the reference normalised per column, a bug we do not reproduce).
    cfg.MODEL.GOSS.MAX_LOGIT_THRESHOLD = 0.5
    # Energy: a pixel whose logsumexp over the N known logits (the negative free energy) is
    # below this threshold is unknown. In logit units, so it depends on the model: calibrate it
    # (tools/calibrate_goss.py searches quantiles of the score on the validation split).
    cfg.MODEL.GOSS.ENERGY_THRESHOLD = 5.0
    # DML: a pixel whose 1 - (fused EDS / metric-MSP unknown score) is below this is unknown.
    cfg.MODEL.GOSS.DML_THRESHOLD = 0.5
    # EDS: a pixel whose distance sum over the image's largest (S / max S, in [0, 1]) is below
    # this is unknown (embeddings of unknown objects lie amid the prototypes: a small sum).
    cfg.MODEL.GOSS.EDS_THRESHOLD = 0.5
    # Confidence adjustment beta for N+1: the unknown probability is multiplied by beta before
    # the argmax (paper: 5.0; 1.0 = off).
    cfg.MODEL.GOSS.CONFIDENCE_ADJUSTMENT = 1.0
    # panoptic id = category * LABEL_DIVISOR + cluster id. Must equal the datasets' metadata
    # label_divisor, which the evaluator decodes with (the tools check it).
    cfg.MODEL.GOSS.LABEL_DIVISOR = LABEL_DIVISOR
    # Known-class segments smaller than this many pixels become void in the output.
    cfg.MODEL.GOSS.KNOWN_MIN_AREA = 0
    # Unknown clusters smaller than this many pixels become void in the output.
    cfg.MODEL.GOSS.UNKNOWN_MIN_AREA = 0
    # How identified unknown pixels are grouped, a name in UNKNOWN_CLUSTERER_REGISTRY: "super_bpd"
    # (Super-BPD regions of the clustering branch's field), "connected_components" (8-connected
    # components of the unknown mask), "split_components" (those components, cut along Super-BPD
    # regions into pieces of at least SPLIT_MIN_AREA pixels), "dfc" (8-connected regions of the
    # DFC head's argmax; needs CLUSTERING_BRANCH "dfc"), "felzenszwalb" (Felzenszwalb-Huttenlocher
    # graph segmentation of the image, training-free), "seeded_components" (the unknown mask
    # grown from seeds of high unknown score, split along the score's valleys; SEED_*) or "none"
    # (one segment per image: the OSS baseline).
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "super_bpd"
    # The clustering branch the model trains: "bpd" (MODEL.BPD_HEAD, the paper's GST) or "dfc"
    # (MODEL.DFC_HEAD, differentiable feature clustering, the paper's Table 6).
    cfg.MODEL.GOSS.CLUSTERING_BRANCH = "bpd"
    # split_components: a piece of a component smaller than this joins the component's largest.
    cfg.MODEL.GOSS.SPLIT_MIN_AREA = 256
    # seeded_components: the share of an image's unknown pixels, the least confidently unknown,
    # that are no seed (in [0, 1); 0 gives the connected components of the mask).
    cfg.MODEL.GOSS.SEED_QUANTILE = 0.5
    # seeded_components: seed components smaller than this many pixels are no seeds.
    cfg.MODEL.GOSS.SEED_MIN_AREA = 16
    # seeded_components: what SEED_QUANTILE is taken over: "image" (all of an image's unknown
    # pixels) or "component" (each connected component of the unknown mask on its own).
    cfg.MODEL.GOSS.SEED_SCOPE = "image"
    # Keep the weights and run the network in the channels-last memory format: the same model,
    # with faster convolutions on the CPU (oneDNN); the MobileNetV2 configs turn it on.
    cfg.MODEL.GOSS.CHANNELS_LAST = False
    # Pad inputs so that height and width are divisible by this (-1: backbone's size_divisibility).
    cfg.MODEL.GOSS.SIZE_DIVISIBILITY = -1
    # Weight of the semantic cross-entropy loss (alpha_sem; paper 1.0).
    cfg.MODEL.GOSS.SEM_SEG_LOSS_WEIGHT = 1.0

    # The clustering branch: a head regressing the 2-channel BPD field.
    cfg.MODEL.BPD_HEAD = CN()
    # Registered name in BPD_HEAD_REGISTRY of the clustering (BPD field) head.
    cfg.MODEL.BPD_HEAD.NAME = "BPDHead"
    # Backbone features the BPD head reads, coarsest first.
    cfg.MODEL.BPD_HEAD.IN_FEATURES = ["res4", "res3", "res2"]
    # Channels of the head's context and lateral branches.
    cfg.MODEL.BPD_HEAD.CONVS_DIM = 256
    # Dilations of the parallel 3x3 context convs on the coarsest feature.
    cfg.MODEL.BPD_HEAD.DILATIONS = [2, 4, 8, 16]
    # Weight of the BPD loss (alpha_clu; paper 1e-4 with the sum reduction).
    cfg.MODEL.BPD_HEAD.LOSS_WEIGHT = 1e-4
    # BPD loss reduction: "sum" (the reference's) or "mean" over weighted pixels.
    cfg.MODEL.BPD_HEAD.LOSS_REDUCTION = "sum"
    # Whether BPD targets use the exact EDT (False) or the authors' OpenCV-compatible call (True).
    cfg.MODEL.BPD_HEAD.OPENCV_COMPAT = False

    # Super-BPD post-processing (goss.layers.super_bpd) turning the BPD field into segments.
    cfg.MODEL.BPD_HEAD.POSTPROCESS = CN()
    # Super-BPD parent threshold theta_a in degrees (Super-BPD demo default 45).
    cfg.MODEL.BPD_HEAD.POSTPROCESS.THETA_A = 45.0
    # Super-BPD merge threshold theta_l for large regions, in degrees (default 116).
    cfg.MODEL.BPD_HEAD.POSTPROCESS.THETA_L = 116.0
    # Super-BPD merge threshold theta_s for small regions, in degrees (default 68).
    cfg.MODEL.BPD_HEAD.POSTPROCESS.THETA_S = 68.0
    # Super-BPD repulsion margin S_o in degrees (default 5).
    cfg.MODEL.BPD_HEAD.POSTPROCESS.S_O = 5.0
    # Standard deviation, in output pixels, of a Gaussian smoothing of the predicted field before
    # Super-BPD (a denoiser of its directions; 0: none, as the paper).
    cfg.MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA = 0.0

    # The DFC clustering branch (Kim, Kanezaki, Tanaka, TIP 2020), used with CLUSTERING_BRANCH
    # "dfc": q response channels trained without labels.
    cfg.MODEL.DFC_HEAD = CN()
    # Registered name in DFC_HEAD_REGISTRY.
    cfg.MODEL.DFC_HEAD.NAME = "DFCHead"
    # Backbone features the DFC head reads (brought to the finest one's stride and summed).
    cfg.MODEL.DFC_HEAD.IN_FEATURES = ["res4", "res3", "res2"]
    # Channels of the head's feature extractor.
    cfg.MODEL.DFC_HEAD.CONVS_DIM = 64
    # Number of 3x3 conv-norm-ReLU layers of the feature extractor (DFC's M).
    cfg.MODEL.DFC_HEAD.NUM_CONVS = 2
    # Response channels q (the most clusters an image can have; DFC's paper uses 100).
    cfg.MODEL.DFC_HEAD.NUM_CHANNELS = 32
    # Normalisation of the convs (Detectron2's get_norm; the response always gets BatchNorm).
    cfg.MODEL.DFC_HEAD.NORM = "BN"
    # Weight of the DFC loss (L_sim + CONTINUITY_WEIGHT * L_con) among the GOSS losses.
    cfg.MODEL.DFC_HEAD.LOSS_WEIGHT = 1.0
    # DFC's mu: weight of the spatial-continuity term relative to the feature-similarity term.
    cfg.MODEL.DFC_HEAD.CONTINUITY_WEIGHT = 5.0

    # Deep metric learning identification (DMLNet, Cen et al., ICCV 2021): the semantic head
    # outputs EMBED_DIM-channel embeddings and the logits are -GAMMA * squared distance to one
    # learnable prototype per known class (needs TRAIN_MODE "n").
    cfg.MODEL.DML = CN()
    # Whether the semantic branch is a DML embedding head with prototypes (IDENTIFIER dml/eds).
    cfg.MODEL.DML.ENABLED = False
    # Embedding dimension D.
    cfg.MODEL.DML.EMBED_DIM = 12
    # gamma of the distance-based cross-entropy (logits = -gamma * ||e - p_c||^2).
    cfg.MODEL.DML.GAMMA = 1.0
    # Weight lambda_VL of the variance loss (mean ||e - p_y||^2 over labelled pixels; DMLNet 0.01).
    cfg.MODEL.DML.VARIANCE_LOSS_WEIGHT = 0.01

    # Felzenszwalb-Huttenlocher graph segmentation (skimage.segmentation.felzenszwalb) of the
    # image at output resolution, for UNKNOWN_CLUSTERING "felzenszwalb".
    cfg.MODEL.FELZENSZWALB = CN()
    # Scale k: higher means larger segments.
    cfg.MODEL.FELZENSZWALB.SCALE = 300.0
    # Width of the Gaussian smoothing before segmentation.
    cfg.MODEL.FELZENSZWALB.SIGMA = 0.8
    # Smallest segment in pixels (smaller ones are merged into a neighbour).
    cfg.MODEL.FELZENSZWALB.MIN_SIZE = 50

    # Pixel contrastive loss and its projection head.
    cfg.MODEL.CONTRASTIVE = CN()
    # Whether the pixel contrastive loss (paper Eq. 4) is trained.
    cfg.MODEL.CONTRASTIVE.ENABLED = False
    # Weight of the contrastive loss (alpha_pc; paper 0.1).
    cfg.MODEL.CONTRASTIVE.LOSS_WEIGHT = 0.1
    # Backbone feature the projection head reads (the reference uses res5).
    cfg.MODEL.CONTRASTIVE.IN_FEATURE = "res5"
    # Output dimension of the projection head.
    cfg.MODEL.CONTRASTIVE.PROJ_DIM = 256
    # Softmax temperature tau.
    cfg.MODEL.CONTRASTIVE.TEMPERATURE = 0.07
    # Maximum number of sampled anchor embeddings per batch.
    cfg.MODEL.CONTRASTIVE.MAX_SAMPLES = 1024
    # Maximum number of anchors per class and image (half hard, half easy when possible).
    cfg.MODEL.CONTRASTIVE.MAX_VIEWS = 10
    # A class takes part in an image only if it has more than this many feature-resolution pixels.
    cfg.MODEL.CONTRASTIVE.MIN_PIXELS = 10

    # The MobileNetV2 backbone (build_mobilenet_v2_backbone), for CPU and offline use.
    cfg.MODEL.MOBILENET_V2 = CN()
    # Stages to output (res2..res5 = strides 4, 8, 16, 32).
    cfg.MODEL.MOBILENET_V2.OUT_FEATURES = ["res2", "res3", "res4", "res5"]
    # 32, or 16 to dilate the last stage instead of striding it.
    cfg.MODEL.MOBILENET_V2.OUTPUT_STRIDE = 16

    # Semantic pixels of segments smaller than this area (original resolution) get a higher
    # loss weight (reference: 4096; 0 disables).
    cfg.INPUT.SMALL_SEGMENT_AREA = 4096
    # The loss weight of those pixels (reference: 3).
    cfg.INPUT.SMALL_SEGMENT_WEIGHT = 3.0
    # Outlier exposure for N+1 models: random textured synthetic objects pasted into augmented
    # training crops as class N (goss/data/outlier_paste.py). Needs TRAIN_MODE "n_plus_one".
    cfg.INPUT.OUTLIER_PASTE = CN()
    cfg.INPUT.OUTLIER_PASTE.ENABLED = False  # off: class N is learnt from void only
    cfg.INPUT.OUTLIER_PASTE.PROB = 0.5  # probability that a training image gets outliers
    cfg.INPUT.OUTLIER_PASTE.MAX_OBJECTS = 3  # 1..MAX_OBJECTS objects per chosen image
    # object size range, as fractions of the crop's shorter side
    cfg.INPUT.OUTLIER_PASTE.SIZE_RANGE = (0.1, 0.4)
    # how a size is drawn from SIZE_RANGE: "uniform" or "log_uniform" (many more small objects)
    cfg.INPUT.OUTLIER_PASTE.SIZE_SAMPLING = "uniform"
    # what fills an object: "synthetic" (procedural textures), "image" (a shifted, rescaled,
    # re-lit patch of the same image: real image statistics) or "mixed" (either, per object)
    cfg.INPUT.OUTLIER_PASTE.TEXTURE = "synthetic"


def get_goss_cfg(config_file, opts=()):
    """
    The frozen config of the tools: Detectron2 defaults, GOSS keys, ``config_file``, then the
    ``KEY VALUE`` overrides ``opts``; ``MODEL.DEVICE`` falls back to the CPU without CUDA.
    """
    cfg = get_cfg()
    add_goss_config(cfg)
    cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    if not torch.cuda.is_available():
        cfg.MODEL.DEVICE = "cpu"
    cfg.freeze()
    return cfg
