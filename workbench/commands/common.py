"""Helpers shared by the subcommands: output in text or JSON, opening the project."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from workbench.core.project.store import ProjectStore


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def open_project(path: str, writes: str | None = None) -> ProjectStore:
    """Open the project; a command that must write names what it does in `writes` ("training"),
    so that a read-only project is refused with one clear line before any work starts."""
    store = ProjectStore.open(path)
    if writes:
        try:
            store.require_writable(writes)
        except BaseException:
            store.close()
            raise
    return store


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """Print `payload` as JSON with --json, else the human-readable `text`."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
    else:
        sys.stdout.write(printable(text.rstrip("\n")) + "\n")
    sys.stdout.flush()


def progress_line(message: str) -> None:
    """Progress for humans goes to stderr so stdout stays clean for pipes and --json."""
    sys.stderr.write(printable(message) + "\n")
    sys.stderr.flush()


# C0 controls but newline and tab, DEL, and C1 controls: a terminal acts on them (ESC [2J clears the
# screen, ESC ]0;...BEL sets the title), and names, paths and texts come from shared projects.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` for a terminal: control characters shown as visible escapes ("\\x1b"), so a run name
    or a generated text cannot move the cursor, clear the screen or retitle the window. Human-readable
    output only: --json output is already escaped by the JSON encoder."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write_text(text: str, stream: TextIO | None = None) -> None:
    """Write human-readable `text` through `printable` (stdout unless `stream`) and flush."""
    out = stream or sys.stdout
    out.write(printable(text))
    out.flush()


def bounded(kind: type, flag: str) -> Callable[[str], Any]:
    """An argparse `type` for `flag`: parse an int or float, refuse inf/nan and values outside the
    flag's range in `specs.LIMITS`, so argparse prints one `error: argument FLAG: ...` line."""
    from workbench.core.base.specs import LIMITS

    limit = LIMITS[flag]

    def parse(text: str) -> Any:
        value = kind(text)  # a ValueError becomes argparse's "invalid int value: 'many'"
        problem = limit.problem(flag, value, typed=text)
        if problem:
            raise argparse.ArgumentTypeError(problem.removeprefix(f"{flag} "))
        return value

    parse.__name__ = kind.__name__
    return parse


def bound_numeric_flags(sub: argparse._SubParsersAction) -> None:
    """Give every int and float option of every subcommand its range from `specs.LIMITS` (a flag
    without one there is a programming error: every number a user types has a range)."""
    for parser in sub.choices.values():
        for action in parser._actions:
            if action.type in (int, float):
                flag = max(action.option_strings, key=len)
                action.type = bounded(action.type, flag)
