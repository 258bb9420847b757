"""LM Workbench: build small language models end to end, offline."""

__version__ = "0.1.0"
APP_NAME = "LM Workbench"  # the name people see: window titles, installers, the macOS bundle
APP_ID = "lm-workbench"  # the name files use: executables, settings and log folders, the desktop entry
