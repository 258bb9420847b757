"""Attention extraction, per-run snapshots and headless figures."""
