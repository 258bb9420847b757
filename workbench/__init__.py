"""LM Workbench: build small language models end to end, offline."""

__version__ = "0.1.0"
