"""SQLite details of the project store: error messages a user can act on, JSON columns, scripts."""

from __future__ import annotations

import json
import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import Any

from workbench.core.base.disk import disk_full_error, free_bytes
from workbench.core.base.errors import (
    CorruptProjectError,
    ProjectLockedError,
    ReadOnlyProjectError,
    WorkbenchError,
)

DB_NAME = "project.db"


def translate_error(exc: sqlite3.Error, root: Path) -> WorkbenchError:
    """Turn a raw SQLite error into one that tells the user what to do."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return ProjectLockedError(
            f"the project {root} is locked by another program writing to it "
            "(another workbench window or a training run); wait for it to finish or close it, then try again")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return ReadOnlyProjectError(
            f"the project {root} cannot be written (read-only location?); copy the folder somewhere writable")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return CorruptProjectError(
            f"the project database {root / DB_NAME} is damaged ({exc}); restore it from a backup "
            "or create a new project and import your data again")
    if "disk is full" in text or "disk i/o error" in text:
        return _disk_error(text, root)
    return WorkbenchError(f"database error in {root / DB_NAME}: {exc}")


# Below this much free space a "disk I/O error" is a full disk: SQLite reports one when it cannot
# grow the WAL index (`-shm`, 32 KB) or the WAL itself.
NEARLY_FULL_BYTES = 1 << 20


def _disk_error(text: str, root: Path) -> WorkbenchError:
    free = free_bytes(root)
    if "disk is full" in text or (free is not None and free < NEARLY_FULL_BYTES):
        return disk_full_error("the project database", root)
    return WorkbenchError(f"the project database {root / DB_NAME} could not be read or written (disk I/O error): "
                          "the disk may be failing, disconnected or full; check it, then try again")


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v) if isinstance(v, (dict, list, tuple)) else v) for k, v in row.items()}


_JSON_COLUMNS = ("spec", "stats", "sources", "model_spec", "train_spec", "settings", "options", "manifest")


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS:
        if isinstance(out.get(key), str):
            with suppress(ValueError):
                out[key] = json.loads(out[key])
    return out
