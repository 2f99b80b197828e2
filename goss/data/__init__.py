"""Datasets (registered on import), dataset mapper and target generation."""

from . import datasets  # noqa: F401  (registers the GOSS datasets)
from .dataset_mapper import GOSSDatasetMapper
from .outlier_paste import OutlierPaste
from .target_generator import GOSSTargetGenerator, SmallSegmentWeights

__all__ = ["GOSSDatasetMapper", "GOSSTargetGenerator", "OutlierPaste", "SmallSegmentWeights"]
