"""Paths read from a project (database rows, checkpoint manifests) never lead outside it.

A shared project is untrusted: a checkpoint row whose `dir` is `../victim`, absolute, or a symlink
inside the project that points out must be refused before anything is read, written or deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from workbench.core.base.errors import CorruptProjectError, OutsideProjectError
from workbench.core.base.events import CheckpointSaved
from workbench.core.project.checkpoints import MANIFEST, resume_checkpoint, verify_checkpoint
from workbench.core.project.paths import inside
from workbench.core.project.run_records import RunRecorder
from workbench.core.project.store import ProjectStore, now_iso

needs_symlinks = pytest.mark.skipif(os.name == "nt", reason="symlinks need extra rights on Windows")


def _victim(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precious.txt").write_text("keep me")
    return folder


def _hostile_dirs(store: ProjectStore, victim: Path) -> dict[str, str]:
    """The three ways a stored path can lead out: relative, absolute, symlink inside the project."""
    link = store.root / "runs" / "r" / "checkpoints" / "link"
    link.parent.mkdir(parents=True, exist_ok=True)
    dirs = {"relative": os.path.relpath(victim, store.root), "absolute": str(victim)}
    if os.name != "nt":
        link.symlink_to(victim, target_is_directory=True)
        dirs["symlink"] = "runs/r/checkpoints/link"
    return dirs


@pytest.fixture
def project(tmp_path):
    store = ProjectStore.create(tmp_path / "p.wbproj")
    run_id = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {}, "train_spec": {}, "status": "queued",
                                   "dir": "runs/r", "created": now_iso()})
    yield store, run_id, _victim(tmp_path / "victim")
    store.close()


def test_inside_keeps_paths_within_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    assert inside(root, "a", "b.txt") == (root / "a" / "b.txt").resolve()
    assert inside(root, str(root / "a")) == (root / "a").resolve()  # absolute but inside: fine


@pytest.mark.parametrize("rel", ["../victim", "a/../../victim", "/", ".", "", None, 3, "bad\0name"])
def test_inside_refuses_paths_that_leave_the_root(tmp_path, rel):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    with pytest.raises(OutsideProjectError) as caught:
        inside(root, rel, what="checkpoint 7 of run 'x'")
    assert "checkpoint 7 of run 'x'" in str(caught.value)
    assert isinstance(caught.value, CorruptProjectError)  # the command line's exit 2 with one error line


@needs_symlinks
def test_inside_follows_symlinks(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    victim = _victim(tmp_path / "victim")
    (root / "link").symlink_to(victim, target_is_directory=True)
    with pytest.raises(OutsideProjectError):
        inside(root, "link")
    with pytest.raises(OutsideProjectError):
        inside(root, "link", "precious.txt")


def test_store_path_refuses_hostile_rows(project):
    store, _, victim = project
    for how, rel in _hostile_dirs(store, victim).items():
        with pytest.raises(OutsideProjectError, match="outside"):
            store.path(rel, what=f"row {how}")


def _insert_checkpoint(store: ProjectStore, run_id: int, step: int, rel: str, *, latest: int = 0) -> None:
    store.insert("checkpoints", {"run_id": run_id, "step": step, "dir": rel, "sha256": "0" * 64, "val_loss": None,
                                 "is_latest": latest, "is_best": 0, "created": now_iso()})


def test_resume_refuses_a_hostile_row_before_anything_is_written(project):
    store, run_id, victim = project
    for step, rel in enumerate(_hostile_dirs(store, victim).values(), start=10):
        store.execute("DELETE FROM checkpoints")
        _insert_checkpoint(store, run_id, step, rel, latest=1)
        with pytest.raises(OutsideProjectError, match=f"checkpoint {step} of run 'r'"):
            resume_checkpoint(store, store.get_run(run_id))
    assert (victim / "precious.txt").read_text() == "keep me"


def test_recorder_never_deletes_outside_the_project(project):
    """The issue's case: resuming drops rows past the step, and retention drops old ones, with rmtree."""
    store, run_id, victim = project
    for rel in _hostile_dirs(store, victim).values():
        store.execute("DELETE FROM checkpoints")
        _insert_checkpoint(store, run_id, 50, rel)
        recorder = RunRecorder(store, run_id, clock=lambda: 1.0)
        with pytest.raises(OutsideProjectError):
            recorder.start(10, resumed=True)  # checkpoint 50 is past step 10: it would be deleted
        assert store.list_checkpoints(run_id)  # folders are checked before any row goes
        store.execute("UPDATE checkpoints SET step = 1")
        own = store.root / "runs" / "r" / "checkpoints" / "20"
        own.mkdir(parents=True, exist_ok=True)
        with pytest.raises(OutsideProjectError):  # retention: row 1 is neither latest nor best
            recorder.record(CheckpointSaved(step=20, path="runs/r/checkpoints/20", kind="latest", sha256="1" * 64))
        assert (victim / "precious.txt").read_text() == "keep me"


def test_a_manifest_cannot_name_files_outside_its_checkpoint(tmp_path):
    folder = tmp_path / "p" / "ckpt"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    for rel in ("../../secret.txt", str(secret)):
        (folder / MANIFEST).write_text(json.dumps({"format": 1, "step": 1, "files": {rel: digest}}))
        with pytest.raises(OutsideProjectError, match="manifest.json"):
            verify_checkpoint(folder)
