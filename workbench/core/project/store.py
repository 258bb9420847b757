"""The project store: one folder per project, `project.db` (SQLite via sqlite-utils) plus files.

Rules (DESIGN.md section 4): one connection per thread; WAL; busy timeout; foreign keys on; the
schema version lives in `PRAGMA user_version` and ordered migrations bring older files up to date.
Paths in the database are relative to the project folder, so a project can be moved or zipped.
Files are written first (under a temporary name, then renamed); the row that points at them is
written after they exist. Opening a project never writes to it unless it needs migrating or
finds runs whose process died. Rows are read and written through sqlite-utils tables (`insert`,
`update`, `upsert`, `get`, `rows_where`); every sqlite3 error leaves as a `WorkbenchError` that says
what to do (`translate_error`).
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError as RowNotFound
from sqlite_utils.db import Table

from workbench import __version__
from workbench.core.base.disk import disk_full_error
from workbench.core.base.errors import (
    DiskFullError,
    NotFoundError,
    ReadOnlyProjectError,
    WorkbenchError,
)
from workbench.core.project import opening
from workbench.core.project.opening import ARTIFACT_FOLDERS
from workbench.core.project.paths import inside
from workbench.core.project.run_lock import lock_is_free
from workbench.core.project.schema import SCHEMA_VERSION, apply_migrations
from workbench.core.project.sql import DB_NAME, decode_row, jsonable, translate_error
from workbench.core.project.tempdirs import remove_stale, temp_name

PROJECT_SUFFIX = ".wbproj"
# Liveness is the run's lock (`run_lock`); the heartbeat decides only where the lock cannot be probed.
HEARTBEAT_STALE_S = 30.0
INTERRUPTED_MESSAGE = "the process running this run stopped unexpectedly; resume it from its last checkpoint"
ACTIVE_STATUSES = ("running", "paused")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ProjectStore:
    """A project folder and its database. Safe to share between threads (one connection each)."""

    def __init__(self, root: Path, busy_timeout_ms: int = 5000, read_only: bool = False) -> None:
        self.root = Path(root).resolve()
        self.db_path = self.root / DB_NAME
        self.busy_timeout_ms = busy_timeout_ms
        # A read-only project (a mount, a shared drive) is browsed through connections SQLite keeps
        # from writing; everything that would write asks `require_writable` first.
        self.read_only = read_only
        self.disk_full = False  # opened read-only because the disk is full (`_first_read`)
        # Opened read-only because another window of the app has it open (`window_lock`); set by the window.
        self.open_elsewhere = False
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # ---- opening -------------------------------------------------------------------------------

    @classmethod
    def create(cls, root: str | Path, busy_timeout_ms: int = 5000) -> ProjectStore:
        root = Path(root)
        if (root / DB_NAME).exists():
            raise WorkbenchError(f"a project already exists at {root}; open it instead")
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise WorkbenchError(f"{root} exists and is not an empty folder; choose a new name")
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ReadOnlyProjectError(f"cannot create a project at {root}: {exc.strerror}; choose a writable folder") from exc
        store = cls(root, busy_timeout_ms)
        try:
            for folder in ARTIFACT_FOLDERS:
                (root / folder).mkdir(exist_ok=True)
            store._migrate()
            store.set_meta("created", now_iso())
        except BaseException:
            store.close()
            shutil.rmtree(root, ignore_errors=True)
            raise
        return store

    @classmethod
    def open(cls, root: str | Path, busy_timeout_ms: int = 5000, mark_stale: bool = True,
             read_only: bool | None = None) -> ProjectStore:
        """Open an existing project; never creates one (only `create` does).

        `read_only=None` decides from the folder (`opening.location_writable`): a project that cannot
        be written opens read-only, for browsing, and is neither migrated nor tidied.
        """
        root = Path(root)
        opening.check_database_file(root)
        if read_only is None:
            read_only = not opening.location_writable(root)
        store, version = cls._first_read(root, busy_timeout_ms, read_only)
        read_only = store.read_only
        try:
            tables = store.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            opening.check_schema(root, version, tables, read_only)
            if version < SCHEMA_VERSION:
                store._migrate()
            if mark_stale and not read_only:
                with suppress(DiskFullError):  # a full disk: marked at a later open; browsing goes on
                    store.mark_interrupted_runs()
                store.remove_stale_temps()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _first_read(cls, root: Path, busy_timeout_ms: int, read_only: bool) -> tuple[ProjectStore, int]:
        """The store and its schema version. On a full disk SQLite cannot even make the WAL index
        (`-shm`) a reader needs, so the project opens read-only, to be browsed, if its WAL holds
        nothing (a read-only connection then sees every committed row)."""
        store = cls(root, busy_timeout_ms, read_only=read_only)
        try:
            return store, store.schema_version()
        except DiskFullError:
            store.close()
            wal = root / f"{DB_NAME}-wal"
            if read_only or (wal.exists() and wal.stat().st_size > 0):
                raise
        except BaseException:
            store.close()
            raise
        store = cls(root, busy_timeout_ms, read_only=True)
        store.disk_full = True
        try:
            return store, store.schema_version()
        except BaseException:
            store.close()
            raise

    def require_writable(self, what: str) -> None:
        """Refuse `what` (e.g. "training") before it writes anything when the project is read-only."""
        if self.read_only and self.disk_full:
            raise disk_full_error(what, self.root)
        if self.read_only and self.open_elsewhere:
            raise ReadOnlyProjectError(
                f"the project {self.root} is open in another LM Workbench window, so it was opened read-only "
                f"here and {what} cannot save anything in it; close it in the other window and open it again here")
        if self.read_only:
            raise ReadOnlyProjectError(
                f"the project {self.root} is read-only, so {what} cannot save anything in it; "
                "copy the project folder somewhere writable and open the copy")

    def connect(self) -> sqlite3.Connection:
        """A new connection of its own (WAL, busy timeout, foreign keys), for a helper thread to use and close."""
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = opening.connect(self.db_path, self.busy_timeout_ms / 1000, self.read_only)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.root) from exc
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's database handle (created on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = self._connect()
            with self._lock:
                self._all_conns.append(conn)
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    def close(self) -> None:
        with self._lock:
            for conn in self._all_conns:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all_conns.clear()
        self._local = threading.local()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- schema --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        return int(self.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        self.execute("PRAGMA journal_mode = WAL")
        if apply_migrations(self.db.conn, self.root) < SCHEMA_VERSION:
            self.set_meta("app_version", __version__)

    # ---- low-level helpers ---------------------------------------------------------------------

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate_error(exc, self.root) from exc

    def _table(self, name: str) -> Table:
        """An existing table: sqlite-utils would quietly create a misspelt one on the first insert."""
        table = self.db.table(name)
        if not table.exists():
            raise WorkbenchError(f"the project database {self.db_path} has no table {name!r}")
        return table

    def rows(self, table: str, where: str | None = None, params: Sequence[Any] = (), order_by: str = "id",
             decode: bool = True) -> list[dict[str, Any]]:
        """Rows of `table` matching `where` (JSON columns decoded unless `decode` is False)."""
        with self._translated():
            found = list(self.db.table(table).rows_where(where, params, order_by=order_by))
        return [decode_row(r) for r in found] if decode else found

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._translated():
            return self.db.conn.execute(sql, params)

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        with self._translated():
            return list(self.db.query(sql, params))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception. Not re-entrant."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate_error(exc, self.root) from exc
        # SQLite rolls back by itself on some errors (a full disk: SQLITE_FULL), and a second ROLLBACK
        # would then replace the real error with "cannot rollback - no transaction is active"
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate_error(exc, self.root) from exc

    # JSON columns are encoded by `jsonable` before sqlite-utils sees them: it would store repr() of a
    # value JSON cannot hold, where a loud TypeError points at the bug.

    def insert(self, table: str, row: dict[str, Any]) -> int:
        with self._translated():
            rowid = self._table(table).insert(jsonable(row)).last_rowid
        assert rowid is not None  # set by every one-row insert without ignore=True
        return rowid

    def update(self, table: str, row_id: int, **fields: Any) -> None:
        with self._translated():
            try:
                self._table(table).update(row_id, jsonable(fields))
            except RowNotFound as exc:
                raise NotFoundError(f"no row {row_id} in {table}; it was deleted meanwhile") from exc

    def path(self, *parts: str | Path, what: str = "an entry of the project database") -> Path:
        """Absolute path of a project-relative path stored in the database (joined with `parts`).

        Resolved after symlinks and refused (`OutsideProjectError`, naming `what`) unless it lies
        inside the project: the database of a shared project is untrusted input."""
        return inside(self.root, *parts, what=what)

    def relative(self, absolute: str | Path) -> str:
        return Path(absolute).resolve().relative_to(self.root).as_posix()

    def new_artifact_dir(self, kind: str) -> tuple[Path, Path]:
        """A fresh temporary folder for an artefact and the final folder it will be renamed to.

        Write everything into the first, then call `commit_artifact_dir(tmp, final)` and only then
        insert the row that points at it.
        """
        self.require_writable(f"adding to {kind}")
        slug = uuid.uuid4().hex[:12]
        parent = self.root / kind
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / temp_name()  # names its owner, so `remove_stale_temps` can tell a leftover
        tmp.mkdir()
        return tmp, parent / slug

    @staticmethod
    def commit_artifact_dir(tmp: Path, final: Path) -> None:
        tmp.rename(final)

    def remove_stale_temps(self) -> list[Path]:
        """Temporary artefact folders whose writer was killed (never those of a live process)."""
        return [path for kind in ARTIFACT_FOLDERS for path in remove_stale(self.root / kind)]

    # ---- meta ----------------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        with self._translated():
            self._table("meta").upsert({"key": key, "value": value}, pk="key")

    def get_meta(self, key: str) -> str | None:
        with self._translated():
            try:
                return self.db.table("meta").get(key)["value"]
            except RowNotFound:
                return None

    # ---- named things (datasets, tokenizers, runs) ---------------------------------------------

    def _get_named(self, table: str, what: str, key: str | int) -> dict[str, Any]:
        rows = self.rows(table, "name = ?", (str(key),))
        # an id is ASCII digits within SQLite's 64-bit integers ("²".isdigit(); 10**20 overflows)
        if not rows and str(key).isascii() and str(key).isdigit() and int(key) < 2**63:
            rows = self.rows(table, "id = ?", (int(key),))
        if not rows:
            names = [r["name"] for r in self.rows(table, decode=False)]
            known = ", ".join(names) if names else "none yet"
            raise NotFoundError(f"no {what} named {key!r} in this project (known: {known})")
        return rows[0]

    def name_taken(self, table: str, name: str) -> bool:
        return bool(self.rows(table, "name = ?", (name,), decode=False))

    def get_dataset(self, key: str | int) -> dict[str, Any]:
        return self._get_named("datasets", "dataset", key)

    def list_datasets(self) -> list[dict[str, Any]]:
        return self.rows("datasets")

    def get_tokenizer(self, key: str | int) -> dict[str, Any]:
        return self._get_named("tokenizers", "tokenizer", key)

    def list_tokenizers(self) -> list[dict[str, Any]]:
        return self.rows("tokenizers")

    def get_run(self, key: str | int) -> dict[str, Any]:
        return self._get_named("runs", "run", key)

    def list_runs(self) -> list[dict[str, Any]]:
        return self.rows("runs")

    def get_token_cache(self, dataset_id: int, tokenizer_id: int) -> dict[str, Any] | None:
        rows = self.rows("token_caches", "dataset_id = ? AND tokenizer_id = ?", (dataset_id, tokenizer_id))
        return rows[0] if rows else None

    # ---- runs ----------------------------------------------------------------------------------

    def mark_interrupted_runs(self, keep: Sequence[int] = ()) -> list[int]:
        """Runs still marked running/paused whose training process is gone; returns their ids. Runs in
        `keep` are left alone (the caller trains them itself).

        Decided by each run's lock (`run_lock`): a live process holds it even while suspended, and the
        OS frees it the moment the process dies. Only where the lock cannot be probed (an unwritable
        folder) does a heartbeat older than `HEARTBEAT_STALE_S` count as dead instead.
        """
        rows = self.query(f"SELECT id, heartbeat FROM runs WHERE status IN ({','.join('?' * len(ACTIVE_STATUSES))})",
                          ACTIVE_STATUSES)
        marked = []
        for row in rows:
            if row["id"] in keep:
                continue
            with lock_is_free(self.root, row["id"]) as free:
                if free is None:
                    free = (row["heartbeat"] or 0.0) < time.time() - HEARTBEAT_STALE_S
                # the status is checked again here: the trainer may have ended (and let go) since the SELECT
                if free and self.execute(
                        f"UPDATE runs SET status = 'interrupted', message = ? WHERE id = ? "
                        f"AND status IN ({','.join('?' * len(ACTIVE_STATUSES))})",
                        (INTERRUPTED_MESSAGE, row["id"], *ACTIVE_STATUSES)).rowcount:
                    marked.append(row["id"])
        return marked

    def list_checkpoints(self, run_id: int) -> list[dict[str, Any]]:
        return self.rows("checkpoints", "run_id = ?", (run_id,), order_by="step")

    def metrics(self, run_id: int, name: str | None = None, since_id: int = 0) -> list[dict[str, Any]]:
        where = "run_id = ? AND id > ?"
        params: list[Any] = [run_id, since_id]
        if name:
            where += " AND name = ?"
            params.append(name)
        return self.rows("metrics", where, params, decode=False)  # thousands of rows, no JSON in them
