"""GOSS evaluation."""
