"""Orchestration around training and evaluation: the experiment report."""
