"""Issue 11, points 11 and 12: a full disk while writing a checkpoint, an export or the database says
so in one line, with the space needed, and loses nothing: the last good checkpoint still loads and the
run resumes. `export --out` below an existing file is refused before anything is written.

The full disk is injected (ENOSPC from the write in the middle of a checkpoint or an export), so the
tests run anywhere; a real full tmpfs behaves the same (see the issue note).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import project_digest, run_cli

from workbench.cli import main
from workbench.core.base.errors import DiskFullError, WorkbenchError
from workbench.core.project import opening, sql
from workbench.core.project.checkpoints import resume_checkpoint
from workbench.core.project.store import ProjectStore

TINY = ["--device", "cpu", "--n-layer", "1", "--n-head", "1", "--n-embd", "8", "--block-size", "8",
        "--batch-size", "2", "--eval-interval", "2", "--eval-batches", "1"]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with one 2-step run "r" (a checkpoint at step 2)."""
    root = tmp_path / "p.wbproj"
    words = tmp_path / "words.txt"
    words.write_text("\n".join(f"the king speaks to his men {i % 7} and they answer." for i in range(200)) + "\n")
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(words), "--name", "words"]) == 0
    assert main(["train", str(root), "--dataset", "words", *TINY, "--max-steps", "2", "--name", "r", "--json"]) == 0
    return root


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err
    return lines[0]


def temp_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith((".tmp-", ".old-"))]


@pytest.mark.parametrize("where", ["optimizer tensors", "trainer state"])
def test_a_full_disk_in_a_checkpoint_keeps_the_last_one_and_the_run_resumes(project, capsys, monkeypatch, where):
    if where == "optimizer tensors":  # after the model files were written: a half-made checkpoint folder
        monkeypatch.setattr("safetensors.torch.save_file", no_space)
    else:
        real_write_text = Path.write_text
        monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: no_space() if self.name == "trainer_state.json"
                            else real_write_text(self, *a, **k))
    code, out, err = run_cli(capsys, "train", project, "--resume", "r", "--max-steps", 4, "--json")
    line = one_error_line(err)  # progress goes to stdout as JSON lines
    assert code == 2 and "the disk is full: checkpoint 4 needs about" in line and " free" in line, err
    assert "last complete checkpoint is kept" in line
    monkeypatch.undo()
    assert temp_leftovers(project) == []
    with ProjectStore.open(project) as store:
        run = store.get_run("r")
        row, folder, _ = resume_checkpoint(store, run)  # verified against its manifest and row
        assert row["step"] == 2 and (folder / "model.safetensors").is_file()
    code, out, err = run_cli(capsys, "train", project, "--resume", "r", "--max-steps", 4)
    assert code == 0 and "finished at step 4" in out, err


def test_a_full_disk_in_an_export_leaves_no_partial_folder(project, tmp_path, capsys, monkeypatch):
    copied = []

    def copy_then_fill(src, dst, *args, **kwargs):
        if copied:
            no_space()
        copied.append(shutil.copy(src, dst))

    monkeypatch.setattr("workbench.core.ops.export.shutil.copy2", copy_then_fill)
    before = project_digest(project)
    out_dir = tmp_path / "exports" / "model"
    code, out, err = run_cli(capsys, "export", project, "--run", "r", "--out", out_dir)
    line = one_error_line(err)
    assert code == 2 and f"the disk is full: the export to {out_dir} needs about" in line and "KB" in line
    assert copied and not out_dir.exists() and list(out_dir.parent.iterdir()) == []
    assert project_digest(project) == before
    monkeypatch.undo()
    code, out, err = run_cli(capsys, "export", project, "--run", "r", "--out", out_dir)
    assert code == 0 and (out_dir / "model.safetensors").is_file(), err


@pytest.mark.parametrize("below", ["sub", "a/b"])
def test_export_below_an_existing_file_is_refused(project, tmp_path, capsys, below):
    some_file = tmp_path / "some_file.txt"
    some_file.write_text("keep me\n")
    before = project_digest(project)
    code, out, err = run_cli(capsys, "export", project, "--run", "r", "--out", some_file / below)
    line = one_error_line(err)
    assert code == 2 and f"{some_file} is a file, not a folder" in line
    assert some_file.read_text() == "keep me\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "p.wbproj", "some_file.txt", "words.txt"]
    assert project_digest(project) == before
    code, _, err = run_cli(capsys, "export", project, "--run", "r", "--out", some_file)
    assert code == 2 and "already exists" in one_error_line(err)


class _FullDiskConnection(sqlite3.Connection):
    """What SQLite answers on a 100% full disk: it cannot size the WAL index a reader needs."""

    def execute(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")


def test_runs_lists_a_project_on_a_full_disk_and_writers_say_why_they_cannot(project, tmp_path, capsys, monkeypatch):
    real_connect = opening.connect

    def connect(db, timeout_s, read_only):
        return real_connect(db, timeout_s, read_only) if read_only else sqlite3.connect(db, factory=_FullDiskConnection)

    monkeypatch.setattr(opening, "connect", connect)
    monkeypatch.setattr(sql, "free_bytes", lambda path: 0)
    before = project_digest(project)
    code, out, err = run_cli(capsys, "runs", project)
    assert code == 0 and " r " in out and err == "", err
    code, out, err = run_cli(capsys, "import", project, tmp_path / "words.txt", "--name", "again")
    assert code == 2 and "the disk is full" in one_error_line(err)
    monkeypatch.undo()
    assert project_digest(project) == before


def test_sqlite_disk_errors_are_explained(tmp_path, monkeypatch):
    error = sql.translate_error(sqlite3.OperationalError("database or disk is full"), tmp_path)
    assert isinstance(error, DiskFullError) and "the disk is full" in str(error) and "free" in str(error)
    monkeypatch.setattr(sql, "free_bytes", lambda path: 10 * 2**30)  # a disk with room: an I/O fault
    error = sql.translate_error(sqlite3.OperationalError("disk I/O error"), tmp_path)
    assert isinstance(error, WorkbenchError) and not isinstance(error, DiskFullError)
    assert "disk I/O error" in str(error) and "check it" in str(error)
