#!/usr/bin/env python
"""
Inference latency of GOSS models, per image, split into the parts of the pipeline:

- ``backbone``; ``semantic_head`` (logits at the input size); ``clustering_head`` (the BPD field
  or DFC response at the input size);
- ``identification`` (the identifier on the logits at output size, incl. their resize to it when
  the output size differs), ``clustering`` (the same for the field, the clusterer's partition and
  its unknown segments), ``fusion`` (class probabilities and the panoptic map);

and ``total``, the model's own ``model(inputs)`` on the same input, timed separately. The
``clustering_overhead`` is ``(clustering_head + clustering + fusion) / (backbone +
semantic_head + identification)``: what the clustering branch and the GOSS post-processing add to
the same network without them (an open-set semantic segmentation). ``gmacs_per_image`` counts
the multiply-adds of the backbone and the two heads on the first image (fvcore), and
``clustering_head_gmac_share`` is the clustering head's over the other two: the overhead the head
would have if it ran as fast per multiply-add as the rest of the network. Prints one JSON line and
writes it to ``--output`` (default ``output/benchmark_model.json``): one row per model and size,
median milliseconds over ``--repeats`` passes over the images, after one warm-up pass.

  python tools/benchmark_model.py \\
      --model projects/GOSS/configs/camvid_goss/mobilenet_v2/gst.yaml[=WEIGHTS.pth] \\
      --model projects/GOSS/configs/camvid_goss/gst.yaml \\
      [--sizes 360x480,1024x2048] [--images "DIR/*.png"] [--num-images 2] [--repeats 3] \\
      [--device cpu] [--output FILE.json] [KEY VALUE ...]

Without ``=WEIGHTS`` a model has random heads and backbone (``MODEL.WEIGHTS ""``), which is
enough for the network's latency; the clustering's cost depends on the field, so give trained
weights for it to be representative. Without ``--images`` the inputs are seeded random images.
"""

import argparse
import glob
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from fvcore.nn import FlopCountAnalysis

import goss  # noqa: F401  (applies the Detectron2 shims, registers GOSS)
from detectron2.modeling import build_model
from detectron2.structures import ImageList
from goss.config import get_goss_cfg
from goss.data.image_io import read_image
from goss.engine.checks import load_trained_weights
from goss.modeling.postprocessing import resize_map, upsample_image
from goss.utils.json_line import print_json_line

DEFAULT_MODELS = (
    "projects/GOSS/configs/camvid_goss/mobilenet_v2/gst.yaml",
    "projects/GOSS/configs/camvid_goss/gst.yaml",
)
PARTS = (
    "backbone",
    "semantic_head",
    "clustering_head",
    "identification",
    "clustering",
    "fusion",
)


def get_parser():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="CFG[=WEIGHTS]",
        help=f"a config, optionally with trained weights; repeatable (default: {DEFAULT_MODELS})",
    )
    p.add_argument(
        "--sizes", default="360x480,1024x2048", help="HxW,... (default 360x480,1024x2048)"
    )
    p.add_argument("--images", help="a glob of images, resized to each size (default: random)")
    p.add_argument("--num-images", type=int, default=2, help="images per pass (default 2)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes (default 3)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument(
        "--output",
        default=os.path.join("output", "benchmark_model.json"),
        metavar="FILE",
        help="where the JSON line is also written (default output/benchmark_model.json)",
    )
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides KEY VALUE ... (all)")
    return p


def _sizes(text, parser):
    try:
        sizes = [tuple(int(v) for v in s.split("x")) for s in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(len(s) != 2 or min(s) < 32 for s in sizes):
        parser.error(f"--sizes: expected HxW,... with sides >= 32, got {text!r}")
    return sizes


def _images(args, size, parser):
    """``args.num_images`` uint8 ``[3, H, W]`` tensors (RGB) at ``size``."""
    if args.images is None:
        g = torch.Generator().manual_seed(0)
        return [
            torch.randint(0, 256, (3, *size), generator=g).float() for _ in range(args.num_images)
        ]
    files = sorted(glob.glob(args.images))[: args.num_images]
    if not files:
        parser.error(f"--images: no file matches {args.images!r}")
    out = []
    for f in files:
        img = torch.as_tensor(np.ascontiguousarray(read_image(f, "RGB"))).permute(2, 0, 1)
        out.append(F.interpolate(img[None].float(), size=size, mode="bilinear")[0].round())
    return out


class _Timer:
    def __init__(self, device):
        self.cuda = torch.device(device).type == "cuda"
        self.ms = {}

    def __call__(self, name, fn, *args, **kwargs):
        if self.cuda:
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        if self.cuda:
            torch.cuda.synchronize()
        self.ms[name] = self.ms.get(name, 0.0) + 1000 * (time.perf_counter() - t)
        return out


def _up(t, size):
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)


def _network(model, image):
    """The network's three parts as functions: ``(input tensor, {part: fn})``; the backbone's
    takes the input tensor, the heads' the backbone's features (as ``GOSS._predict`` runs them,
    contiguous outputs at the padded input size)."""
    x = ((image.to(model.device) - model.pixel_mean) / model.pixel_std)[None]
    padded = ImageList.from_tensors([x[0]], model.size_divisibility)
    tensor = padded.tensor.contiguous(memory_format=model.memory_format)
    size = tensor.shape[-2:]
    head = model.bpd_head if model.dfc_head is None else model.dfc_head

    def semantic(features):
        logits = _up(model.sem_seg_head(features), size)
        return (model.dml_head(logits) if model.dml_head is not None else logits).contiguous()

    return tensor, {
        "backbone": model.backbone,
        "semantic_head": semantic,
        "clustering_head": lambda features: _up(head(features), size).contiguous(),
    }


class _Traced(torch.nn.Module):
    """A function as a module, for fvcore's operation counter (which traces modules)."""

    def __init__(self, fn, model):
        super().__init__()
        self.fn, self.model = fn, model

    def forward(self, x):
        return self.fn(x)


@torch.no_grad()
def _gmacs(model, image):
    """Giga multiply-adds of each network part on one image (fvcore's count of convolutions,
    matrix products, normalisation and upsampling; the element-wise operations are not counted)."""
    tensor, fns = _network(model, image)
    features = model.backbone(tensor)
    out = {}
    for part, fn in fns.items():
        counter = FlopCountAnalysis(
            _Traced(fn, model), (tensor if part == "backbone" else features,)
        )
        counter.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        out[part] = round(counter.total() / 1e9, 3)
    return out


@torch.no_grad()
def _parts(model, image, timer):
    """One image through the model's pieces, each timed; returns the number of unknown segments."""
    h, w = image.shape[-2:]
    tensor, fns = _network(model, image)
    features = timer("backbone", fns["backbone"], tensor)
    logits = timer("semantic_head", fns["semantic_head"], features)[0, :, :h, :w]
    field = timer("clustering_head", fns["clustering_head"], features)[0, :, :h, :w]

    def identify():
        lg = resize_map(logits, (h, w))
        return lg, model.identifier(lg)

    logits, (labels, score) = timer("identification", identify)
    fusion = model.fusion

    def cluster():
        img = upsample_image(image.to(model.device), (h, w)) if fusion.needs_image else None
        return fusion.cluster(labels, resize_map(field, (h, w)), image=img, unknown_score=score)[0]

    clusters = timer("clustering", cluster)

    def fuse():
        logits.softmax(dim=0)
        return fusion.segmentation(labels, clusters)

    pan = timer("fusion", fuse)
    return int(torch.unique(pan[pan >= fusion.num_known * fusion.label_divisor]).numel())


def _benchmark(spec, sizes, args, parser):
    cfg_file, _, weights = spec.partition("=")
    cfg = get_goss_cfg(cfg_file, [*args.opts, "MODEL.DEVICE", args.device, "MODEL.WEIGHTS", ""])
    torch.manual_seed(0)
    model = build_model(cfg)
    if weights:
        load_trained_weights(model, weights)
    model.eval()
    rows = []
    for size in sizes:
        images = _images(args, size, parser)
        parts, totals, segments = {p: [] for p in PARTS}, [], 0
        for r in range(args.repeats + 1):  # the first pass warms up
            timer = _Timer(args.device)
            segments = sum(_parts(model, im, timer) for im in images)
            t = _Timer(args.device)
            with torch.no_grad():
                t("total", model, [{"image": im} for im in images])
            if r:
                for p in PARTS:
                    parts[p].append(timer.ms[p] / len(images))
                totals.append(t.ms["total"] / len(images))
        ms = {p: round(statistics.median(v), 2) for p, v in parts.items()}
        gmacs = _gmacs(model, images[0])
        base = ms["backbone"] + ms["semantic_head"] + ms["identification"]
        extra = ms["clustering_head"] + ms["clustering"] + ms["fusion"]
        rows.append(
            {
                "config": cfg_file,
                "weights": weights or "random",
                "size": list(size),
                "ms_per_image": ms,
                "total_ms_per_image": round(statistics.median(totals), 2),
                "clustering_overhead": round(extra / base, 3),
                "gmacs_per_image": gmacs,
                "clustering_head_gmac_share": round(
                    gmacs["clustering_head"] / (gmacs["backbone"] + gmacs["semantic_head"]), 3
                ),
                "unknown_segments_per_image": segments / len(images),
                "clusterer": cfg.MODEL.GOSS.UNKNOWN_CLUSTERING,
                "identifier": cfg.MODEL.GOSS.IDENTIFIER,
            }
        )
    return rows


def main(argv=None):
    parser = get_parser()
    args = parser.parse_args(argv)
    sizes = _sizes(args.sizes, parser)
    rows = []
    for spec in args.model or DEFAULT_MODELS:
        rows += _benchmark(spec, sizes, args, parser)
    result = {
        "device": args.device,
        "threads": torch.get_num_threads(),
        "images": args.images or "random",
        "repeats": args.repeats,
        "rows": rows,
    }
    print_json_line(result, args.output)
    return result


if __name__ == "__main__":
    sys.exit(main() and 0)
