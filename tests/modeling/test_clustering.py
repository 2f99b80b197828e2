"""The unknown clusterers of UNKNOWN_CLUSTERER_REGISTRY, alone and inside the model."""

import pytest
import torch

import goss.modeling.clustering.super_bpd as super_bpd_module
from detectron2.modeling import build_model
from goss.modeling.clustering import UNKNOWN_CLUSTERER_REGISTRY, build_unknown_clusterer
from tests.common import small_goss_cfg
from tests.modeling.test_goss_e2e import _toy_batch

# two 8-connected blobs (the diagonal touch joins them) and one separate blob
MASK = torch.tensor(
    [
        [1, 1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 1],
        [0, 0, 1, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0],
    ],
    dtype=torch.bool,
)


def _cfg(name):
    cfg = small_goss_cfg(num_known=3, train_mode="n", identifier="msp", contrastive=False)
    cfg.MODEL.GOSS.UNKNOWN_CLUSTERING = name
    return cfg


def test_registry_names():
    assert {"super_bpd", "connected_components", "split_components", "none"} <= {
        k for k, _ in UNKNOWN_CLUSTERER_REGISTRY
    }


def test_unregistered_name_is_an_error_naming_the_key():
    with pytest.raises(ValueError, match="MODEL.GOSS.UNKNOWN_CLUSTERING 'nope'"):
        build_unknown_clusterer(_cfg("nope"))


def test_connected_components_on_a_small_mask():
    labels = build_unknown_clusterer(_cfg("connected_components"))(MASK)
    assert labels.dtype == torch.int64
    expected = torch.tensor(
        [
            [1, 1, 0, 0, 0, 0],
            [1, 1, 0, 0, 0, 2],
            [0, 0, 1, 0, 0, 2],
            [0, 0, 0, 0, 0, 0],
            [3, 0, 0, 0, 0, 0],
        ]
    )
    assert torch.equal(labels, expected)


def test_none_is_one_segment():
    labels = build_unknown_clusterer(_cfg("none"))(MASK)
    assert torch.equal(labels, MASK.long())


def test_empty_mask_gives_no_segment():
    empty = torch.zeros(4, 5, dtype=torch.bool)
    for name in ("connected_components", "none"):
        assert build_unknown_clusterer(_cfg(name))(empty).sum() == 0


def test_super_bpd_cuts_the_mask_along_field_regions():
    # a field pointing down in the left half and up in the right half: two regions
    field = torch.zeros(2, 5, 6)
    field[0, :, :3] = 1.0
    field[0, :, 3:] = -1.0
    clusterer = build_unknown_clusterer(_cfg("super_bpd"))
    partition = clusterer.partition(field)
    assert len(torch.unique(partition)) == 2
    labels = clusterer(MASK, field)
    assert torch.equal(labels[MASK], partition.long()[MASK])
    assert (labels[~MASK] == 0).all()
    assert torch.equal(clusterer(MASK, partition=partition), labels)
    with pytest.raises(ValueError, match="needs the BPD field"):
        clusterer(MASK)


@pytest.mark.parametrize("name", ["connected_components", "none"])
def test_mask_clusterers_never_run_super_bpd(name, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("super_bpd was called")

    monkeypatch.setattr(super_bpd_module, "super_bpd", fail)
    cfg = _cfg(name)
    cfg.MODEL.GOSS.MSP_THRESHOLD = 1.1  # every pixel unknown
    model = build_model(cfg).eval()
    with torch.no_grad():
        out = model(_toy_batch(3, "n", n=1))[0]
    assert "clusters" not in out  # no whole-image partition, so no GQ_clu
    assert torch.unique(out["panoptic_seg"][0]).tolist() == [3001]


def _split(min_area):
    cfg = _cfg("split_components")
    cfg.MODEL.GOSS.SPLIT_MIN_AREA = min_area
    return build_unknown_clusterer(cfg)


def test_split_components_cuts_components_where_both_pieces_are_large():
    # one component (a full 3x6 block) and a separate pixel; the partition cuts the block into
    # 11 px (left), 6 px (right) and a 1-px sliver
    mask = torch.zeros(5, 6, dtype=torch.bool)
    mask[:3] = True
    mask[4, 5] = True
    partition = torch.ones(5, 6, dtype=torch.int32)
    partition[:, 4:] = 2
    partition[0, 0] = 3  # a sliver, smaller than any min_area below
    labels = _split(5)(mask, partition=partition)
    assert labels.dtype == torch.int64 and (labels[~mask] == 0).all()
    left, right = labels[1:3, :4], labels[:3, 4:]
    assert len(torch.unique(left)) == 1 and len(torch.unique(right)) == 1
    assert left[0, 0] != right[0, 0]
    assert labels[0, 0] == left[0, 0]  # the sliver joined the largest piece of its component
    assert labels[4, 5] not in (left[0, 0], right[0, 0])  # its own component, kept whole
    assert sorted(torch.unique(labels[mask]).tolist()) == [1, 2, 3]
    # pieces below min_area: plain connected components
    cc = build_unknown_clusterer(_cfg("connected_components"))(mask)
    assert torch.equal(_split(100)(mask, partition=partition), cc)


def test_split_components_with_one_region_is_connected_components():
    clusterer = _split(1)
    whole = torch.ones(5, 6, dtype=torch.int32)
    cc = build_unknown_clusterer(_cfg("connected_components"))(MASK)
    assert torch.equal(clusterer(MASK, partition=whole), cc)
    assert clusterer(torch.zeros(3, 3, dtype=torch.bool), partition=whole[:3, :3]).sum() == 0
    with pytest.raises(ValueError, match="needs the BPD field"):
        clusterer(MASK)
    with pytest.raises(ValueError, match="SPLIT_MIN_AREA"):
        _split(0)


def test_split_components_in_the_model_reports_its_partition():
    cfg = _cfg("split_components")
    cfg.MODEL.GOSS.MSP_THRESHOLD = 1.1  # every pixel unknown
    model = build_model(cfg).eval()
    with torch.no_grad():
        out = model(_toy_batch(3, "n", n=1))[0]
    assert out["clusters"].shape == out["panoptic_seg"][0].shape  # GQ_clu of the Super-BPD part
    assert (out["panoptic_seg"][0] >= 3001).all()


def test_super_bpd_field_smoothing(monkeypatch):
    from goss.modeling.clustering import SuperBPDClusterer

    seen = []

    def op(field, **params):
        seen.append(field)
        return torch.ones(field.shape[1:], dtype=torch.int32)

    monkeypatch.setattr(super_bpd_module, "super_bpd", op)
    field = torch.randn(2, 32, 40, generator=torch.Generator().manual_seed(0))
    SuperBPDClusterer(field_sigma=0.0).partition(field)
    assert torch.equal(seen[-1], field)
    smooth = SuperBPDClusterer(field_sigma=2.0)
    smooth.partition(field)

    def variation(f):
        return float(
            (f[:, 1:] - f[:, :-1]).abs().mean() + (f[:, :, 1:] - f[:, :, :-1]).abs().mean()
        )

    # a denoised field: far less variation between neighbours, the same mean direction
    assert seen[-1].shape == field.shape and variation(seen[-1]) < variation(field) / 4
    assert torch.allclose(seen[-1].mean(dim=(1, 2)), field.mean(dim=(1, 2)), atol=0.02)
    assert smooth.partition_key() != SuperBPDClusterer().partition_key()
    cfg = _cfg("super_bpd")
    cfg.MODEL.BPD_HEAD.POSTPROCESS.FIELD_SIGMA = 2.0
    assert build_unknown_clusterer(cfg).field_sigma == 2.0
    with pytest.raises(ValueError, match="FIELD_SIGMA"):
        SuperBPDClusterer(field_sigma=-1.0)
