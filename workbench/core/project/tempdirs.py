"""Temporary names that say who owns them, and the removal of those a dead process left behind.

Artefacts are written under a temporary name and renamed into place (DESIGN.md section 4); a
process killed before the rename leaves its temporary folder behind. The name carries the owner's
process id and host, `<prefix><pid>-<host>-<random>`, so a later process can tell a leftover (its
owner no longer runs on this host) from the work of a process that is still writing it.

A folder is stale when its owner's pid is not alive on this host, or when the pid now belongs to a
process that started after the folder was last written (the pid was reused). Folders of another
host are never touched (a shared drive: their owner may be alive over there). Names without an
owner (written by earlier versions) are stale once untouched for `UNOWNED_STALE_S`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from pathlib import Path

import psutil

TMP_PREFIX = ".tmp-"
UNOWNED_STALE_S = 24 * 3600.0
_CLOCK_SLACK_S = 2.0  # file times and process start times come from different clocks and resolutions
_OWNED = re.compile(r"(?P<pid>\d+)-(?P<host>[A-Za-z0-9_.]+)-(?P<rand>[0-9a-f]{8,32})")


def host_tag() -> str:
    """This machine's name as it appears in temporary names (letters, digits, `_` and `.` only)."""
    name = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:40]
    return name or "host"


def temp_name(prefix: str = TMP_PREFIX) -> str:
    """A fresh temporary name owned by this process: `<prefix><pid>-<host>-<random>`."""
    return f"{prefix}{os.getpid()}-{host_tag()}-{uuid.uuid4().hex[:12]}"


def _owner_gone(pid: int, written: float) -> bool:
    if pid == os.getpid():
        return False
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return True
    except (psutil.AccessDenied, OSError):
        return not psutil.pid_exists(pid)
    return started > written + _CLOCK_SLACK_S  # a newer process with a recycled pid cannot be the writer


def is_stale(path: Path, prefix: str = TMP_PREFIX, now: float | None = None) -> bool:
    """Whether `path` (named `<prefix>...`) was left by a process that no longer runs."""
    if not path.name.startswith(prefix):
        return False
    try:
        written = path.lstat().st_mtime
    except FileNotFoundError:
        return False  # already gone (its owner renamed it into place)
    match = _OWNED.fullmatch(path.name[len(prefix):])
    if match is None:
        return (now if now is not None else time.time()) - written > UNOWNED_STALE_S
    if match["host"] != host_tag():
        return False
    return _owner_gone(int(match["pid"]), written)


def remove_stale(parent: Path, prefix: str = TMP_PREFIX) -> list[Path]:
    """Remove the stale `<prefix>*` entries directly inside `parent`; returns what was removed.

    Best effort: a folder that cannot be listed or removed (read-only, permissions) is left as it is."""
    removed: list[Path] = []
    try:
        children = list(Path(parent).iterdir())
    except OSError:
        return removed
    for child in children:
        if not is_stale(child, prefix):
            continue
        try:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        except OSError:
            continue
        removed.append(child)
    return removed
