"""The project store: creation, migrations, concurrency rules and the errors users can act on."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest

from workbench.core.base.errors import (
    CorruptProjectError,
    NewerSchemaError,
    NotAProjectError,
    NotFoundError,
    ProjectLockedError,
    ReadOnlyProjectError,
    WorkbenchError,
)
from workbench.core.project.run_lock import RunLock
from workbench.core.project.schema import SCHEMA_VERSION
from workbench.core.project.store import DB_NAME, ProjectStore

TABLES = {"meta", "datasets", "tokenizers", "token_caches", "runs", "metrics", "checkpoints", "samples",
          "generations", "attention_snapshots"}


def _tables(path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()


def test_create_makes_a_current_project(tmp_path):
    root = tmp_path / "p.wbproj"
    with ProjectStore.create(root) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.get_meta("app_version")
        assert store.get_meta("created")
        assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert _tables(root / DB_NAME) >= TABLES
    for folder in ("datasets", "tokenizers", "caches", "runs"):
        assert (root / folder).is_dir()


def test_create_refuses_existing_project_and_non_empty_folder(tmp_path):
    ProjectStore.create(tmp_path / "a").close()
    with pytest.raises(WorkbenchError, match="already exists"):
        ProjectStore.create(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    with pytest.raises(WorkbenchError, match="not an empty folder"):
        ProjectStore.create(tmp_path / "b")
    assert (tmp_path / "b" / "notes.txt").read_text() == "mine"


def test_migrates_an_empty_v0_file(tmp_path):
    root = tmp_path / "old.wbproj"
    root.mkdir()
    (root / DB_NAME).write_bytes(b"")  # a v0 project: the file exists, nothing in it
    with ProjectStore.open(root) as store:
        assert store.schema_version() == SCHEMA_VERSION
    assert _tables(root / DB_NAME) >= TABLES


def test_migrates_v1_to_current_keeping_rows(tmp_path):
    from workbench.core.project.schema import MIGRATIONS

    root = tmp_path / "v1.wbproj"
    root.mkdir()
    con = sqlite3.connect(root / DB_NAME)
    con.executescript(MIGRATIONS[0] + ";\nPRAGMA user_version = 1;")
    con.execute("INSERT INTO meta (key, value) VALUES ('created', 'long ago')")
    con.commit()
    con.close()
    with ProjectStore.open(root) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.get_meta("created") == "long ago"
        assert "attention_snapshots" in _tables(root / DB_NAME)


def test_newer_schema_is_refused_without_changes(tmp_path):
    root = tmp_path / "future.wbproj"
    ProjectStore.create(root).close()
    con = sqlite3.connect(root / DB_NAME)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.close()
    with pytest.raises(NewerSchemaError, match="newer LM Workbench"):
        ProjectStore.open(root)


def test_not_a_project(tmp_path):
    with pytest.raises(NotAProjectError, match="workbench new"):
        ProjectStore.open(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotAProjectError, match="not a workbench project"):
        ProjectStore.open(tmp_path / "plain")


def test_corrupt_database(tmp_path):
    root = tmp_path / "bad.wbproj"
    root.mkdir()
    (root / DB_NAME).write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CorruptProjectError, match="damaged"):
        ProjectStore.open(root)


def test_truncated_sqlite_file_is_reported_as_corrupt(tmp_path):
    root = tmp_path / "trunc.wbproj"
    ProjectStore.create(root).close()
    data = (root / DB_NAME).read_bytes()
    (root / DB_NAME).write_bytes(data[:16] + b"\x00\x01" * 60)  # valid magic, garbage header
    with pytest.raises((CorruptProjectError, WorkbenchError)):
        ProjectStore.open(root)


def test_locked_by_another_writer(tmp_path):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    holder = sqlite3.connect(root / DB_NAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = ProjectStore(root, busy_timeout_ms=100)
        with pytest.raises(ProjectLockedError, match="locked"):
            store.set_meta("x", "y")
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_location(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(ReadOnlyProjectError, match="writable"):
            ProjectStore.create(parent / "p.wbproj")
    finally:
        parent.chmod(0o700)


def test_read_only_database_is_explained(tmp_path):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    store = ProjectStore(root)
    # A read-only connection stands in for a read-only medium (root ignores chmod).
    store._local.db = __import__("sqlite_utils").Database(
        sqlite3.connect(f"file:{root / DB_NAME}?mode=ro", uri=True, isolation_level=None))
    with pytest.raises(ReadOnlyProjectError):
        store.set_meta("x", "y")
    store.close()


def test_one_connection_per_thread(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        seen = {}

        def work(name):
            seen[name] = id(store.db.conn)
            store.set_meta(name, name)

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(seen.values())) == 4
        assert id(store.db.conn) not in seen.values()
        assert {store.get_meta(f"t{i}") for i in range(4)} == {"t0", "t1", "t2", "t3"}


def _insert_run(store, name="run-1", status="running", heartbeat=None):
    return store.insert("runs", {"name": name, "arch": "gpt2", "model_spec": {}, "train_spec": {}, "status": status,
                                 "dir": f"runs/{name}", "heartbeat": heartbeat, "created": "now"})


def test_stale_running_run_becomes_interrupted(tmp_path):
    root = tmp_path / "p.wbproj"
    with ProjectStore.create(root) as store:
        dead = _insert_run(store, "dead", heartbeat=time.time() - 3600)
        alive = _insert_run(store, "alive", heartbeat=time.time())
        done = _insert_run(store, "done", status="finished", heartbeat=time.time() - 3600)
    with RunLock(root, alive, "alive"), ProjectStore.open(root) as store:  # alive: its trainer holds the lock
        assert store.get_run(dead)["status"] == "interrupted"
        assert "resume" in store.get_run(dead)["message"]
        assert store.get_run(alive)["status"] == "running"
        assert store.get_run(done)["status"] == "finished"


def test_lookup_by_name_or_id_and_helpful_not_found(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        run_id = _insert_run(store, "first")
        assert store.get_run("first")["id"] == run_id
        assert store.get_run(str(run_id))["name"] == "first"
        with pytest.raises(NotFoundError, match="known: first"):
            store.get_run("second")
        with pytest.raises(NotFoundError, match="none yet"):
            store.get_dataset("x")


def test_foreign_keys_cascade(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        run_id = _insert_run(store)
        store.insert("metrics", {"run_id": run_id, "step": 1, "name": "loss", "value": 2.0, "wall": 0.0})
        store.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        assert store.query("SELECT COUNT(*) AS n FROM metrics")[0]["n"] == 0
        with pytest.raises(WorkbenchError):
            store.insert("metrics", {"run_id": 999, "step": 1, "name": "loss", "value": 2.0, "wall": 0.0})


def test_transaction_rolls_back(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.set_meta("half", "done")
            raise RuntimeError("boom")
        assert store.get_meta("half") is None


def test_json_columns_round_trip(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        run_id = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {"n_layer": 2},
                                       "train_spec": {"lr": 0.001}, "status": "queued", "dir": "runs/r", "created": "t"})
        row = store.get_run(run_id)
        assert row["model_spec"] == {"n_layer": 2} and row["train_spec"] == {"lr": 0.001}


# A later migration as a user might write one: a `;` inside a string literal, a comment and a trigger body.
_V_NEXT = """
INSERT INTO meta (key, value) VALUES ('motto', 'train; evaluate; repeat');  -- a comment; with a semicolon
CREATE TRIGGER runs_status_note AFTER UPDATE OF status ON runs BEGIN
    UPDATE runs SET message = 'status changed; see the log' WHERE id = NEW.id;
END;
"""


def _with_next_migration(monkeypatch, sql: str) -> None:
    from workbench.core.project import schema
    from workbench.core.project import store as store_module

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, sql])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)


def test_migration_with_semicolons_in_literals_and_trigger_bodies(tmp_path, monkeypatch):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    _with_next_migration(monkeypatch, _V_NEXT)
    with ProjectStore.open(root) as store:
        assert store.schema_version() == SCHEMA_VERSION + 1
        assert store.get_meta("motto") == "train; evaluate; repeat"
        run_id = _insert_run(store, status="queued")
        store.update("runs", run_id, status="finished")
        assert store.get_run(run_id)["message"] == "status changed; see the log"


def test_failed_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    _with_next_migration(monkeypatch, "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);")
    with pytest.raises(WorkbenchError, match="no_such_table"):
        ProjectStore.open(root)
    assert "half_done" not in _tables(root / DB_NAME)
    con = sqlite3.connect(root / DB_NAME)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        con.close()


def test_writes_to_a_misspelt_table_or_a_missing_row_fail(tmp_path):
    root = tmp_path / "p.wbproj"
    with ProjectStore.create(root) as store:
        with pytest.raises(WorkbenchError, match="no table 'metric'"):  # sqlite-utils would create it
            store.insert("metric", {"run_id": 1, "step": 1, "name": "loss", "value": 2.0, "wall": 0.0})
        with pytest.raises(NotFoundError, match="no row 42 in runs"):
            store.update("runs", 42, status="finished")
    assert "metric" not in _tables(root / DB_NAME)


def test_library_writes_stay_inside_an_open_transaction(tmp_path):
    # sqlite-utils 3.x committed the caller's transaction from inside insert/update; 4.x nests a savepoint.
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        run_id = _insert_run(store, status="queued")
        with pytest.raises(RuntimeError), store.transaction():
            store.insert("metrics", {"run_id": run_id, "step": 1, "name": "loss", "value": 2.0, "wall": 0.0})
            store.update("runs", run_id, status="running")
            raise RuntimeError("boom")
        assert store.metrics(run_id) == [] and store.get_run(run_id)["status"] == "queued"
