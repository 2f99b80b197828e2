"""The MobileNetV2 backbone and its ImageNet weights."""

import pytest
import torch

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import get_cfg
from detectron2.modeling import build_backbone
from goss import add_goss_config
from goss.modeling.backbone.imagenet_weights import _source_path, convert_mobilenet_v2_weights


def _cfg(output_stride=16):
    cfg = get_cfg()
    add_goss_config(cfg)
    cfg.MODEL.BACKBONE.NAME = "build_mobilenet_v2_backbone"
    cfg.MODEL.MOBILENET_V2.OUTPUT_STRIDE = output_stride
    return cfg


@pytest.mark.parametrize("stride", [16, 32])
def test_output_shapes(stride):
    backbone = build_backbone(_cfg(stride))
    out = backbone(torch.zeros(1, 3, 64, 96))
    for name, spec in backbone.output_shape().items():
        assert out[name].shape == (1, spec.channels, 64 // spec.stride, 96 // spec.stride)
    assert backbone.output_shape()["res5"].stride == stride


def test_imagenet_weights_convert_and_load(tmp_path, monkeypatch):
    try:
        src = _source_path()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    state = convert_mobilenet_v2_weights(src)
    monkeypatch.setenv("GOSS_CACHE", str(tmp_path))
    model = torch.nn.Module()
    model.backbone = build_backbone(_cfg())
    DetectionCheckpointer(model).load("goss://ImageNetPretrained/mobilenet_v2")
    loaded = model.backbone.state_dict()
    assert len(state) == len(loaded)
    for key, value in state.items():
        assert torch.equal(loaded[key[len("backbone.") :]], value), key
    assert (tmp_path / "mobilenet_v2_imagenet_d2.pth").is_file()


def test_unknown_goss_weights_name():
    from detectron2.utils.file_io import PathManager

    with pytest.raises(ValueError, match="unknown GOSS weights"):
        PathManager.get_local_path("goss://ImageNetPretrained/resnet_999")
