"""The felzenszwalb clusterer: scikit-image's graph segmentation of the image, in the fusion."""

import pytest
import torch

from detectron2.modeling import build_model
from goss.modeling.clustering.felzenszwalb import FelzenszwalbClusterer
from goss.modeling.postprocessing import goss_image_outputs
from tests.common import small_goss_cfg
from tests.modeling.test_goss_e2e import _toy_batch


def _two_tone(h=20, w=30):
    image = torch.full((3, h, w), 20.0)
    image[:, :, w // 2 :] = 230.0
    return image


def test_partition_follows_the_colours():
    part = FelzenszwalbClusterer(scale=100.0, sigma=0.5, min_size=50).partition(_two_tone())
    assert part.dtype == torch.int32 and part.min() >= 1
    assert len(torch.unique(part)) == 2
    assert part[0, 0] != part[0, -1]


def _outputs(image):
    return goss_image_outputs(
        torch.zeros(2, 20, 30),  # MSP 0.5: all unknown at threshold 0.9
        torch.zeros(2, 20, 30),
        num_known=2,
        identifier="msp",
        threshold=0.9,
        beta=1.0,
        clusterer=FelzenszwalbClusterer(scale=100.0, sigma=0.5, min_size=50),
        image=image,
    )


def test_felzenszwalb_in_the_fusion_needs_the_image():
    pan = _outputs(_two_tone())["panoptic_seg"][0]
    assert sorted(torch.unique(pan).tolist()) == [2001, 2002]
    with pytest.raises(ValueError, match="image"):
        _outputs(None)


def test_model_gives_felzenszwalb_the_image():
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "felzenszwalb"
    cfg.MODEL.GOSS.MSP_THRESHOLD = 1.1
    model = build_model(cfg).eval()
    batch = _toy_batch(3, "n", n=1)
    with torch.no_grad():
        out = model([{"image": batch[0]["image"], "height": 32, "width": 48}])[0]
    image = torch.nn.functional.interpolate(
        batch[0]["image"][None].float(), size=(32, 48), mode="bilinear", align_corners=False
    )[0]
    assert torch.equal(out["clusters"], model.clusterer.partition(image))
    assert len(torch.unique(out["clusters"])) > 1  # the toy image has flat rectangles
