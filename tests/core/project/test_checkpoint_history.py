"""list_checkpoints, set_pinned, delete_checkpoint, run_disk_usage (issue 13 point 1), and the
schema migration that added `checkpoints.pinned`."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from workbench.core.base.errors import InvalidSpecError, NotFoundError, RunInUseError
from workbench.core.project.checkpoint_history import (
    CheckpointInfo,
    delete_checkpoint,
    list_checkpoints,
    run_disk_usage,
    set_pinned,
)
from workbench.core.project.checkpoints import save_checkpoint
from workbench.core.project.run_lock import RunLock
from workbench.core.project.schema import MIGRATIONS, SCHEMA_VERSION
from workbench.core.project.store import ProjectStore, now_iso


def _model(size: int):
    return lambda folder: (folder / "model.safetensors").write_bytes(b"w" * size)


@pytest.fixture
def project(tmp_path):
    """Run "r" with real (manifested) checkpoints at 10, 20 (best), 30 and 40 (latest)."""
    store = ProjectStore.create(tmp_path / "p.wbproj")
    run_id = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {}, "train_spec": {}, "status": "finished",
                                   "dir": "runs/r", "created": now_iso()})
    for step, loss in ((10, 2.0), (20, 1.0), (30, 1.5), (40, 1.2)):
        saved = save_checkpoint(store.root / "runs/r/checkpoints", step, write_model=_model(1000 + step), state={},
                                tensor_files={})
        store.insert("checkpoints", {"run_id": run_id, "step": step, "dir": store.relative(saved.path),
                                     "sha256": saved.sha256, "val_loss": loss, "is_latest": int(step == 40),
                                     "is_best": int(step == 20), "created": now_iso()})
    yield store, run_id
    store.close()


def test_lists_every_checkpoint_with_its_size_and_marks(project):
    store, run_id = project
    infos = list_checkpoints(store, run_id)
    assert [i.step for i in infos] == [10, 20, 30, 40]
    assert all(isinstance(i, CheckpointInfo) and i.problem == "" for i in infos)
    by_step = {i.step: i for i in infos}
    assert by_step[40].is_latest and by_step[20].is_best and not by_step[30].pinned
    assert by_step[30].val_loss == 1.5 and by_step[30].size_bytes > 1030  # weights plus manifest and state
    assert run_disk_usage(store, run_id) == sum(i.size_bytes for i in infos)


def test_missing_and_damaged_files_are_listed_with_the_reason(project):
    store, run_id = project
    root = store.root / "runs/r/checkpoints"
    (root / "10" / "model.safetensors").write_bytes(b"tampered")
    (root / "30" / "model.safetensors").unlink()
    shutil.rmtree(root / "20")
    for verify in (True, False):
        problems = {i.step: i.problem for i in list_checkpoints(store, run_id, verify=verify)}
        assert "missing" in problems[20] and "model.safetensors is missing" in problems[30] and problems[40] == ""
        assert ("sha256" in problems[10]) if verify else problems[10] == ""  # the quick check does not hash


def test_a_row_pointing_out_of_the_project_is_listed_not_followed(project, tmp_path):
    store, run_id = project
    store.execute("UPDATE checkpoints SET dir = '../../elsewhere' WHERE step = 10")
    info = list_checkpoints(store, run_id)[0]
    assert info.step == 10 and "outside" in info.problem and info.size_bytes == 0


def test_pin_protects_from_delete_and_unpin_releases(project):
    store, run_id = project
    set_pinned(store, run_id, 30, True)
    assert [i.step for i in list_checkpoints(store, run_id) if i.pinned] == [30]
    with pytest.raises(InvalidSpecError, match="pinned; unpin it first"):
        delete_checkpoint(store, run_id, 30)
    set_pinned(store, run_id, 30, False)
    freed = delete_checkpoint(store, run_id, 30)
    assert freed > 1030 and not (store.root / "runs/r/checkpoints/30").exists()
    assert [i.step for i in list_checkpoints(store, run_id)] == [10, 20, 40]
    with pytest.raises(NotFoundError, match=r"no checkpoint at step 30 \(it has: 10, 20, 40\)"):
        set_pinned(store, run_id, 30, True)


def test_latest_and_best_cannot_be_deleted(project):
    store, run_id = project
    with pytest.raises(InvalidSpecError, match="latest"):
        delete_checkpoint(store, run_id, 40)
    with pytest.raises(InvalidSpecError, match="best"):
        delete_checkpoint(store, run_id, 20)
    assert [i.step for i in list_checkpoints(store, run_id)] == [10, 20, 30, 40]


def test_deleting_while_the_run_is_trained_is_refused(project):
    store, run_id = project
    with RunLock(store.root, run_id, "r"), pytest.raises(  # what a live trainer holds
            RunInUseError, match="checkpoint 10 cannot be deleted now: run 'r' is being trained"):
        delete_checkpoint(store, run_id, 10)
    assert (store.root / "runs/r/checkpoints/10").is_dir()
    delete_checkpoint(store, run_id, 10)
    assert not (store.root / "runs/r/checkpoints/10").exists()


def test_a_version_3_project_gains_the_pinned_column(tmp_path):
    root = tmp_path / "old.wbproj"
    root.mkdir()
    con = sqlite3.connect(root / "project.db")
    con.executescript(";\n".join(MIGRATIONS[:3]) + ";\nPRAGMA user_version = 3;")
    con.execute("INSERT INTO runs (name, arch, model_spec, train_spec, status, dir, created) "
                "VALUES ('r', 'gpt2', '{}', '{}', 'finished', 'runs/r', 'now')")
    con.execute("INSERT INTO checkpoints (run_id, step, dir, sha256, is_latest, created) "
                "VALUES (1, 5, 'runs/r/checkpoints/5', 'x', 1, 'now')")
    con.commit()
    con.close()
    with ProjectStore.open(root) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 4
        assert [(r["step"], r["pinned"]) for r in store.list_checkpoints(1)] == [(5, 0)]
