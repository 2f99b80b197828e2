"""GOSS utils."""
