"""The DFC clustering branch: its losses, its head in the model, its clusterer in the fusion."""

import pytest
import torch
import torch.nn.functional as F

from detectron2.modeling import build_model
from goss.modeling.clustering import build_unknown_clusterer
from goss.modeling.clustering.dfc import DFCClusterer, label_regions
from goss.modeling.dfc_loss import dfc_losses
from goss.modeling.postprocessing import goss_image_outputs
from tests.common import small_goss_cfg
from tests.modeling.test_goss_e2e import _toy_batch


def test_continuity_is_zero_on_a_flat_response_and_counts_steps():
    flat = torch.randn(1, 3, 1, 1).expand(1, 3, 4, 5).clone()
    assert dfc_losses(flat)[1] == 0
    step = torch.zeros(1, 2, 4, 5)
    step[0, 0, :, 3:] = 2.0  # one vertical edge of height 2 in channel 0
    # horizontal differences: 4 rows x 4 pairs x 2 channels, 4 of them equal to 2
    assert dfc_losses(step)[1] == pytest.approx(4 * 2.0 / (4 * 4 * 2))


def test_similarity_is_the_cross_entropy_to_the_own_argmax():
    r = torch.randn(2, 4, 3, 3, requires_grad=True)
    sim, _ = dfc_losses(r)
    want = -F.log_softmax(r, dim=1).max(dim=1).values.mean()
    torch.testing.assert_close(sim, want)
    sim.backward()  # the pseudo-labels are constants: the gradient is the CE's
    assert r.grad.abs().sum() > 0


def test_padding_does_not_count():
    r = torch.zeros(1, 2, 4, 4)
    r[0, 0, :, 2:] = 5.0  # an edge at column 2, and column 2.. is padding
    valid = torch.zeros(1, 4, 4, dtype=torch.bool)
    valid[0, :, :2] = True
    _, con = dfc_losses(r, valid)
    assert con == 0
    assert dfc_losses(r)[1] > 0


def test_regions_are_connected_components_of_the_argmax():
    labels = torch.tensor([[0, 0, 1, 0], [0, 0, 1, 0], [2, 2, 1, 0]])
    regions = label_regions(labels)
    assert regions.dtype == torch.int32 and regions.min() >= 1
    assert len(torch.unique(regions)) == 4  # label 0 on both sides of the 1s: two regions
    assert regions[0, 0] != regions[0, 3]


def _dfc_cfg(**kw):
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.CLUSTERING_BRANCH = "dfc"
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "dfc"
    cfg.MODEL.DFC_HEAD.NUM_CHANNELS = 8
    cfg.MODEL.DFC_HEAD.CONVS_DIM = 16
    return cfg


def test_dfc_model_trains_every_parameter_without_a_bpd_head():
    torch.manual_seed(0)
    model = build_model(_dfc_cfg()).train()
    assert model.bpd_head is None
    losses = model(_toy_batch(3, "n"))
    assert set(losses) == {"loss_sem_seg", "loss_dfc_sim", "loss_dfc_con"}
    sum(losses.values()).backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing and any(n.startswith("dfc_head.") for n, _ in model.named_parameters())


def test_dfc_model_inference_has_dfc_clusters_and_no_bpd_field():
    cfg = _dfc_cfg()
    cfg.MODEL.GOSS.MSP_THRESHOLD = 1.1  # every pixel unknown: the clusters are the segments
    model = build_model(cfg).eval()
    batch = _toy_batch(3, "n", n=1)
    with torch.no_grad():
        out = model(batch)[0]
        logits, field, _ = model.predict_maps(batch)[0]
    assert "bpd_field" not in out and field.shape[0] == 8
    assert torch.equal(out["clusters"], DFCClusterer().partition(field))
    pan = out["panoptic_seg"][0]
    assert len(torch.unique(pan)) == len(torch.unique(out["clusters"]))


def test_dfc_clusterer_in_the_fusion():
    response = torch.zeros(3, 6, 8)
    response[0] = 1.0
    response[1, :, 3:5] = 2.0  # a band of cluster 1 cuts cluster 0 in two
    unknown_logits = torch.zeros(2, 6, 8)  # MSP 0.5 everywhere: all unknown at threshold 0.9
    out = goss_image_outputs(
        unknown_logits,
        response,
        num_known=2,
        identifier="msp",
        threshold=0.9,
        beta=1.0,
        clusterer=DFCClusterer(),
        branch="dfc",
    )
    pan = out["panoptic_seg"][0]
    assert sorted(torch.unique(pan).tolist()) == [2001, 2002, 2003]
    assert "bpd_field" not in out


def test_clusterers_refuse_the_wrong_branch():
    cfg = _dfc_cfg()
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "super_bpd"
    with pytest.raises(ValueError, match="CLUSTERING_BRANCH"):
        build_unknown_clusterer(cfg)
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "dfc"
    with pytest.raises(ValueError, match="CLUSTERING_BRANCH"):
        build_unknown_clusterer(cfg)
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = "felzenszwalb"  # reads the image: any branch
    build_unknown_clusterer(cfg)
