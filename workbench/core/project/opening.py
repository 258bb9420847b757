"""Checks made when a project is opened, before its database is trusted or written.

A project folder is untrusted input: it may have been copied badly (an empty `project.db` beside
gigabytes of runs), edited by hand (a schema version that does not match its tables) or sit on a
read-only medium (a mount, a shared drive, a DVD). Each case gets a message that says what happened
and what to do; none of them ever turns into a fresh empty database over the user's files.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from workbench.core.base.errors import (
    CorruptProjectError,
    NewerSchemaError,
    NotAProjectError,
    ReadOnlyProjectError,
)
from workbench.core.project.schema import SCHEMA_VERSION
from workbench.core.project.sql import DB_NAME

ARTIFACT_FOLDERS = ("datasets", "tokenizers", "caches", "runs")
SQLITE_MAGIC = b"SQLite format 3\x00"


def location_writable(root: Path) -> bool:
    """Whether this process may write the project folder and its database.

    `os.access` asks the OS, so it also answers for a read-only mount, where even root cannot write
    (chmod alone does not stop root; tests patch this function to stand in for a read-only medium).
    """
    if not os.access(root, os.W_OK):
        return False
    return all(os.access(path, os.W_OK) for path in (root / DB_NAME, root / f"{DB_NAME}-wal", root / f"{DB_NAME}-shm")
               if path.exists())


def artifact_folders_in_use(root: Path) -> list[str]:
    """The artefact folders (datasets, runs, ...) that hold anything: files a database once pointed at."""
    used = []
    for name in ARTIFACT_FOLDERS:
        folder = root / name
        try:
            if folder.is_dir() and any(folder.iterdir()):
                used.append(name)
        except OSError:  # unreadable counts as in use: never initialise over what cannot be seen
            used.append(name)
    return used


def check_database_file(root: Path) -> None:
    """Refuse a folder that is no project, or whose `project.db` is missing or not SQLite."""
    db = root / DB_NAME
    if not root.exists():
        raise NotAProjectError(f"no project at {root}; create one with `workbench new {root}`")
    if not db.is_file():
        used = artifact_folders_in_use(root)
        if used:
            raise CorruptProjectError(
                f"{root} holds project files ({', '.join(used)}) but its database {DB_NAME} is missing; "
                f"restore {DB_NAME} from a backup (nothing was changed)")
        raise NotAProjectError(f"{root} is not a workbench project (it has no {DB_NAME}); "
                               f"create one with `workbench new PATH`")
    with open(db, "rb") as fh:
        head = fh.read(16)
    if head and head != SQLITE_MAGIC:
        raise CorruptProjectError(f"the project database {db} is damaged (not an SQLite file); "
                                  "restore it from a backup or create a new project")


def check_schema(root: Path, version: int, tables: int, read_only: bool) -> None:
    """Refuse a schema version this app cannot bring up to date, before any migration runs.

    `tables` is how many tables the file holds. Version 0 with no tables is an empty database: it
    is set up only in a folder that holds nothing yet (a new project whose first open was cut off).
    """
    db = root / DB_NAME
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"the project {root} was saved by a newer LM Workbench (schema {version}, this version "
            f"reads up to {SCHEMA_VERSION}); update LM Workbench to open it")
    if version < 0:
        raise CorruptProjectError(f"the project database {db} records an impossible schema version ({version}); "
                                  "restore it from a backup (nothing was changed)")
    if version == 0 and tables == 0:
        used = artifact_folders_in_use(root)
        if used:
            raise CorruptProjectError(
                f"the project database {db} is empty, but the folder holds project files ({', '.join(used)}): "
                f"its records were lost (an interrupted copy or a full disk?); restore {DB_NAME} from a backup. "
                "Nothing was changed; LM Workbench will not start an empty database over these files")
    if version < SCHEMA_VERSION and read_only:
        raise ReadOnlyProjectError(
            f"the project {root} needs its database brought up to date (schema {version} to {SCHEMA_VERSION}) "
            "but it is read-only; copy the folder somewhere writable and open the copy")


def connect(db: Path, timeout_s: float, read_only: bool) -> sqlite3.Connection:
    """An autocommit connection; on a read-only project one that SQLite itself keeps from writing.

    `mode=ro` reads a WAL database when its `-shm` file exists or can be made; in a folder that
    cannot be written and holds none (the database was closed cleanly), only `immutable=1` opens
    it: SQLite then assumes nobody changes the file, true of a read-only medium.
    """
    if not read_only:
        return sqlite3.connect(db, timeout=timeout_s, isolation_level=None)
    uri = db.resolve().as_uri()  # percent-encodes '?' and '#' in folder names
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout_s, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the first read opens the WAL index
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=timeout_s, isolation_level=None)
    return conn
