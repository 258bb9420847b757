"""Opening a project that is damaged or read-only: refused with what to do, or browsed without writes.

Tests run as root, where chmod does not stop writes: `opening.location_writable` is patched to stand
in for a read-only medium; the store then opens SQLite read-only, so SQLite itself refuses writes.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from workbench.core.base.errors import CorruptProjectError, NotAProjectError, ReadOnlyProjectError
from workbench.core.project import opening
from workbench.core.project.schema import MIGRATIONS, SCHEMA_VERSION
from workbench.core.project.store import DB_NAME, ProjectStore, now_iso


def _project_with_files(tmp_path):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    (root / "runs" / "abc" / "checkpoints").mkdir(parents=True)
    (root / "runs" / "abc" / "checkpoints" / "model.safetensors").write_bytes(b"weights")
    return root


def _set_version(db, version: int) -> None:
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {version}")
    con.close()


@pytest.fixture
def read_only_medium(monkeypatch):
    monkeypatch.setattr(opening, "location_writable", lambda root: False)


def test_an_empty_database_beside_project_files_is_refused_not_reinitialised(tmp_path):
    root = _project_with_files(tmp_path)
    (root / DB_NAME).write_bytes(b"")  # e.g. a copy cut off by a full disk
    with pytest.raises(CorruptProjectError, match=r"empty.*\(runs\).*restore project.db from a backup"):
        ProjectStore.open(root)
    assert (root / DB_NAME).stat().st_size == 0
    assert (root / "runs" / "abc" / "checkpoints" / "model.safetensors").read_bytes() == b"weights"


def test_a_missing_database_beside_project_files_says_restore_it(tmp_path):
    root = _project_with_files(tmp_path)
    (root / DB_NAME).unlink()
    with pytest.raises(CorruptProjectError, match=r"\(runs\).*is missing; restore project.db from a backup"):
        ProjectStore.open(root)
    assert not (root / DB_NAME).exists()
    (tmp_path / "plain").mkdir()  # a folder without project files stays "not a project"
    with pytest.raises(NotAProjectError, match="workbench new"):
        ProjectStore.open(tmp_path / "plain")


@pytest.mark.parametrize("version", [0, 1, -1, -5])
def test_a_version_older_than_the_tables_is_refused_unchanged(tmp_path, version):
    root = tmp_path / "p.wbproj"
    with ProjectStore.create(root) as store:
        store.set_meta("mine", "kept")
    _set_version(root / DB_NAME, version)
    before = (root / DB_NAME).read_bytes()
    with pytest.raises(CorruptProjectError, match="restore it from a backup"):
        ProjectStore.open(root)
    assert (root / DB_NAME).read_bytes() == before
    con = sqlite3.connect(root / DB_NAME)
    assert con.execute("PRAGMA user_version").fetchone()[0] == version
    con.close()


def test_read_only_project_is_browsed_through_a_read_only_connection(tmp_path, read_only_medium):
    root = tmp_path / "p.wbproj"
    with ProjectStore.create(root) as store:
        store.set_meta("mine", "kept")
        store.insert("runs", {"name": "dead", "arch": "gpt2", "model_spec": {}, "train_spec": {},
                              "status": "running", "step": 3, "heartbeat": time.time() - 3600,
                              "dir": "runs/dead", "created": now_iso()})
    with ProjectStore.open(root) as store:
        assert store.read_only
        assert store.get_meta("mine") == "kept"
        assert store.get_run("dead")["status"] == "running"  # not marked: that would be a write
        with pytest.raises(ReadOnlyProjectError, match="writable"):
            store.set_meta("x", "y")  # SQLite itself refuses: the connection is read-only
        with pytest.raises(ReadOnlyProjectError, match="read-only, so training cannot"):
            store.require_writable("training")
        with pytest.raises(ReadOnlyProjectError):
            store.new_artifact_dir("datasets")
    assert list((root / "datasets").iterdir()) == []
    with ProjectStore.open(root, read_only=False) as store:
        assert not store.read_only
        assert store.get_meta("x") is None


def test_a_read_only_project_that_needs_migrating_is_refused(tmp_path, read_only_medium):
    root = tmp_path / "v1.wbproj"
    root.mkdir()
    con = sqlite3.connect(root / DB_NAME)
    con.executescript(MIGRATIONS[0] + ";\nPRAGMA user_version = 1;")
    con.close()
    with pytest.raises(ReadOnlyProjectError, match=f"schema 1 to {SCHEMA_VERSION}.*writable"):
        ProjectStore.open(root)
    con = sqlite3.connect(root / DB_NAME)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()


def test_location_writable_asks_the_os(tmp_path, monkeypatch):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    assert opening.location_writable(root)
    monkeypatch.setattr(opening.os, "access", lambda path, mode: str(path) != str(root / DB_NAME))
    assert not opening.location_writable(root)  # the folder may be writable, the database not
    with ProjectStore.open(root) as store:
        assert store.read_only
