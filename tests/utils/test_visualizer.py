"""Drawing and exporting GOSS outputs."""

import numpy as np

from detectron2.data import Metadata
from goss.utils.panoptic_export import goss_to_coco_panoptic
from goss.utils.panoptic_ids import id2rgb
from goss.utils.visualizer import GOSSVisualizer


def _panoptic():
    pan = np.full((40, 60), -1, dtype=np.int32)
    pan[:20] = 0
    pan[20:, :30] = 1000
    pan[25:35, 35:45] = 2001
    pan[25:35, 46:58] = 2002
    return pan


def test_draw_goss_runs_and_changes_pixels():
    image = np.full((40, 60, 3), 128, dtype=np.uint8)
    meta = Metadata(
        stuff_classes=["sky", "road", "unknown"],
        stuff_colors=[[0, 0, 255], [128, 64, 128], [255, 255, 255]],
    )
    drawing = GOSSVisualizer(image, meta).draw_goss(_panoptic(), 2).get_image()
    assert drawing.shape == (40, 60, 3)
    assert (drawing != 128).any()


def test_coco_panoptic_export_round_trip():
    rgb, segments = goss_to_coco_panoptic(_panoptic(), num_known=2)
    rgb = rgb.astype(np.int64)
    ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
    assert sorted(s["id"] for s in segments) == sorted(set(np.unique(ids)) - {0})
    cats = {s["id"]: s["category_id"] for s in segments}
    assert sorted(cats.values()) == [0, 1, 2, 2]
    for s in segments:
        assert s["area"] == int((ids == s["id"]).sum())
        assert s["isthing"] == int(s["category_id"] == 2)
    assert (ids[_panoptic() < 0] == 0).all()


def test_id2rgb():
    assert id2rgb(np.array([[1 + 256 * 2 + 65536 * 3]])).tolist() == [[[1, 2, 3]]]
