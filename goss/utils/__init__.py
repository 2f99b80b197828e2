"""Visualisation and export of GOSS outputs."""

from .panoptic_export import coco_panoptic_categories, goss_to_coco_panoptic, id2rgb
from .visualizer import GOSSVisualizer, split_goss_segments

__all__ = [
    "GOSSVisualizer",
    "coco_panoptic_categories",
    "goss_to_coco_panoptic",
    "id2rgb",
    "split_goss_segments",
]
