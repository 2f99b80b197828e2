"""Test-time augmentation (TEST.AUG): views, un-mirroring of the BPD field, the model's use."""

import pytest
import torch
import torch.nn.functional as F

from detectron2.modeling import build_model
from goss.modeling.test_time_augmentation import GOSSTestTimeAugmentation
from tests.common import small_goss_cfg


def _gradient_net(x):
    """
    A mirror-equivariant "network": logits = the image, field = the central differences of its
    first channel (zero outside), whose column component changes sign in a mirror image.
    """
    g = F.pad(x[:, :1], (1, 1, 1, 1))
    d_row = g[..., 2:, 1:-1] - g[..., :-2, 1:-1]
    d_col = g[..., 1:-1, 2:] - g[..., 1:-1, :-2]
    return x.clone(), torch.cat([d_row, d_col], 1)


def test_view_sizes_follow_detectron2s_shortest_edge_rule():
    tta = GOSSTestTimeAugmentation([360, 540], max_size=640, flip=False)
    assert tta.view_size(360, 480, 360) == (360, 480)
    assert tta.view_size(360, 480, 540) == (480, 640)  # the longer side capped at 640
    with pytest.raises(ValueError, match="MIN_SIZES"):
        GOSSTestTimeAugmentation([], 100, True)
    with pytest.raises(ValueError, match="MAX_SIZE"):
        GOSSTestTimeAugmentation([10], 0, True)


def test_mirrored_views_are_mirrored_back_and_the_column_component_negated():
    # mirroring the input of a gradient field mirrors the field and flips the sign of its column
    # component: un-mirrored with that sign, both views agree (a wrong sign would cancel it)
    image = torch.rand(3, 8, 10)
    plain_logits, plain_field = _gradient_net(image[None])
    logits, field = GOSSTestTimeAugmentation([8], max_size=100, flip=True)(_gradient_net, image)
    assert torch.allclose(logits, plain_logits[0])
    assert torch.allclose(field, plain_field[0], atol=1e-6)


def test_views_are_padded_to_the_size_divisibility_and_cropped():
    image = torch.rand(3, 8, 10)
    seen = []

    def recording(x):
        seen.append(tuple(x.shape[-2:]))
        return _gradient_net(x)

    logits, _ = GOSSTestTimeAugmentation([8], 100, True, size_divisibility=4)(recording, image)
    assert seen == [(8, 12), (8, 12)]  # plain and mirrored, padded right
    assert torch.allclose(logits, image)  # the padding does not reach the image's columns


def test_views_at_other_sizes_are_resized_back():
    image = torch.rand(3, 6, 8)
    calls = []

    def predict(x):
        calls.append(tuple(x.shape[-2:]))
        return x.mean(1, keepdim=True).expand(-1, 2, -1, -1), torch.zeros(1, 2, *x.shape[-2:])

    logits, field = GOSSTestTimeAugmentation([6, 12], max_size=100, flip=False)(predict, image)
    assert calls == [(6, 8), (12, 16)]
    assert logits.shape == (2, 6, 8) and field.shape == (2, 6, 8)
    up = F.interpolate(image[None], size=(12, 16), mode="bilinear", align_corners=False)
    down = F.interpolate(up.mean(1, keepdim=True), size=(6, 8), mode="bilinear")[0, 0]
    assert torch.allclose(logits[0], (image.mean(0) + down) / 2, atol=1e-6)


def test_model_with_tta_averages_its_own_views():
    torch.manual_seed(0)
    cfg = small_goss_cfg(contrastive=False)
    model = build_model(cfg).eval()
    image = torch.randint(0, 255, (3, 32, 48)).float()
    inputs = [{"image": image, "height": 32, "width": 48}]
    with torch.no_grad():
        plain = model(inputs)[0]
        mirrored = model([{"image": image.flip(-1), "height": 32, "width": 48}])[0]
        cfg.TEST.AUG.ENABLED = True
        cfg.TEST.AUG.MIN_SIZES = (32,)
        cfg.TEST.AUG.MAX_SIZE = 1000
        cfg.TEST.AUG.FLIP = True
        tta_model = build_model(cfg).eval()
        tta_model.load_state_dict(model.state_dict())
        out = tta_model(inputs)[0]
    # the field is the mean of the views' (a mirrored one negated in its column component)
    sign = torch.tensor([1.0, -1.0]).view(2, 1, 1)
    expected_field = (plain["bpd_field"] + mirrored["bpd_field"].flip(-1) * sign) / 2
    scale = plain["bpd_field"].abs().max()
    assert torch.allclose(out["bpd_field"] / scale, expected_field / scale, atol=1e-4)
    assert (out["bpd_field"] - plain["bpd_field"]).abs().max() > 0.01 * scale
    # the probabilities are the softmax of the mean logits (= of the mean log-probabilities)
    mean_log = (plain["sem_seg"].log() + mirrored["sem_seg"].flip(-1).log()) / 2
    assert torch.allclose(out["sem_seg"], mean_log.softmax(0), atol=1e-5)
    assert out["panoptic_seg"][0].shape == (32, 48)
