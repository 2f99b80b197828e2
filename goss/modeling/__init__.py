"""GOSS modeling."""
