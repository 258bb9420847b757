"""Helpers shared by the subcommands: output in text or JSON, opening the project."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.core.project.store import ProjectStore


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def open_project(path: str) -> ProjectStore:
    return ProjectStore.open(path)


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """Print `payload` as JSON with --json, else the human-readable `text`."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()


def progress_line(message: str) -> None:
    """Progress for humans goes to stderr so stdout stays clean for pipes and --json."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
