"""The authors' demo (docs/super-bpd.md, test vectors): all four outputs match the shipped PNGs."""

from pathlib import Path

import numpy as np
import pytest
import torch

from goss.layers import super_bpd

from .common import requires_ops

DEMO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "superbpd_demo"
PNGS = {
    "before_dilation": "super_BPDs_before_dilation.png",
    "after_dilation": "super_BPDs_after_dilation.png",
    "labels": "super_BPDs.png",
}

pytestmark = [
    requires_ops,
    pytest.mark.skipif(not (DEMO / "2009_004607.mat").is_file(), reason=f"no demo data in {DEMO}"),
]


def label2color(label):
    """The demo's colour mapping (labels cast to uint16, bits de-interleaved), returned as BGR."""
    code = np.asarray(label).astype(np.uint16).astype(np.int64)
    rgb = np.zeros(code.shape + (3,), np.int64)
    for j in range(8):
        for ch in range(3):
            rgb[..., ch] |= ((code >> (3 * j + ch)) & 1) << (7 - j)
    return rgb[..., ::-1].astype(np.uint8)


@pytest.fixture(scope="module")
def demo():
    import cv2
    import scipy.io

    flux = scipy.io.loadmat(str(DEMO / "2009_004607.mat"))["flux"].astype(np.float32)
    pngs = {k: cv2.imread(str(DEMO / name), cv2.IMREAD_UNCHANGED) for k, name in PNGS.items()}
    pngs["roots"] = cv2.imread(str(DEMO / "root.png"), cv2.IMREAD_UNCHANGED)
    return torch.from_numpy(np.ascontiguousarray(flux)), pngs


def test_demo_matches_pngs_with_reference_quirks(demo):
    flux, pngs = demo
    out = {
        k: v.numpy()
        for k, v in super_bpd(flux, reference_quirks=True, return_intermediates=True).items()
    }
    np.testing.assert_array_equal(out["roots"].astype(np.uint8) * 255, pngs["roots"])
    for key in PNGS:
        np.testing.assert_array_equal(label2color(out[key]), pngs[key], err_msg=key)
    assert int(out["roots"].sum()) == 1238
    assert len(np.unique(out["before_dilation"])) == 1238
    assert len(np.unique(out["after_dilation"])) == 93
    labels, sizes = np.unique(out["labels"], return_counts=True)
    expected = {1: 25090, 96: 80034, 329: 24783, 30500: 23006, 126547: 9047, 137783: 4540}
    assert dict(zip(labels.tolist(), sizes.tolist())) == expected


def test_demo_fixed_mode_changes_only_seven_final_pixels(demo):
    flux, _ = demo
    quirky = super_bpd(flux, reference_quirks=True, return_intermediates=True)
    fixed = super_bpd(flux, return_intermediates=True)
    for key in ("roots", "before_dilation", "after_dilation"):
        assert torch.equal(quirky[key], fixed[key]), key
    assert int((quirky["labels"] != fixed["labels"]).sum()) == 7


def test_angles_and_flux_inputs_agree(demo):
    flux, _ = demo
    angles = torch.atan2(flux[1], flux[0])
    angles = torch.where(angles < 0, angles + 2 * np.pi, angles)
    assert torch.equal(super_bpd(flux), super_bpd(angles.contiguous()))
