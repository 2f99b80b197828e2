"""Datasets (registered on import), dataset mapper and target generation."""
from . import datasets  # noqa: F401  (registers the GOSS datasets)
