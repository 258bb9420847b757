"""A run's checkpoint history as the user sees it: list, pin, delete, and the disk a run takes.

The training process writes checkpoint rows (`run_records.RunRecorder`) and thins them under the
run's retention policy (`retention`); these functions are what the command line
(`workbench checkpoints`) and the window call. None of them loads torch.

    for info in list_checkpoints(store, run_id):       # step, val loss, size, pinned, problem
        ...
    set_pinned(store, run_id, 400, True)               # retention never removes it
    freed = delete_checkpoint(store, run_id, 200)      # refused for latest, best, pinned, or while trained
    used = run_disk_usage(store, run_id)               # bytes of the run's folder

Pinning is allowed while the run trains: the trainer re-reads the flag inside the transaction that
deletes rows, so a pin that lands meanwhile still wins. Deleting is not: it holds the run's lock.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.base.disk import folder_size
from workbench.core.base.errors import InvalidSpecError, NotFoundError, RunInUseError, WorkbenchError
from workbench.core.project.checkpoints import (
    MANIFEST,
    DamagedCheckpointError,
    sha256_file,
    verify_checkpoint,
)
from workbench.core.project.paths import inside
from workbench.core.project.run_lock import RunLock
from workbench.core.project.store import ProjectStore


@dataclass(frozen=True)
class CheckpointInfo:
    step: int
    val_loss: float | None
    size_bytes: int
    pinned: bool
    is_latest: bool
    is_best: bool
    problem: str = ""  # why it cannot be used (files missing, a sha256 that does not match); "" when fine
    dir: str = ""  # project-relative folder, as stored
    created: str = ""


tree_size = folder_size  # the name this module's callers use


def list_checkpoints(store: ProjectStore, run_id: int, *, verify: bool = True) -> list[CheckpointInfo]:
    """Every checkpoint row of run `run_id` by step, with its size and what is wrong with it, if
    anything. `verify=True` checks each file's sha256 (reads every byte: seconds for gigabytes);
    `verify=False` checks only that the files are there and the manifest matches its row."""
    run = store.get_run(run_id)
    infos = []
    for row in store.list_checkpoints(run["id"]):
        problem, size = "", 0
        try:
            folder = store.path(row["dir"], what=f"checkpoint {row['step']} of run {run['name']!r}")
        except WorkbenchError as exc:  # a tampered row: listed with the reason, never followed
            problem = str(exc)
        else:
            size = tree_size(folder) if folder.is_dir() else 0
            problem = _problem(folder, row, full=verify)
        infos.append(CheckpointInfo(
            step=int(row["step"]), val_loss=row["val_loss"], size_bytes=size, pinned=bool(row.get("pinned")),
            is_latest=bool(row["is_latest"]), is_best=bool(row["is_best"]), problem=problem,
            dir=str(row["dir"]), created=str(row["created"])))
    return infos


def _problem(folder: Path, row: dict[str, Any], *, full: bool) -> str:
    if not folder.is_dir():
        return f"its files are missing ({row['dir']} is gone)"
    try:
        if full:
            verify_checkpoint(folder, row["sha256"], label=row["dir"])
        else:
            _quick_check(folder, row)
    except DamagedCheckpointError as exc:
        return str(exc).split("; resume from")[0]  # the reason, without the advice meant for resuming
    except WorkbenchError as exc:  # a manifest entry leading out of the folder
        return str(exc)
    return ""


def _quick_check(folder: Path, row: dict[str, Any]) -> None:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise DamagedCheckpointError(f"checkpoint {row['dir']} is damaged or incomplete: it has no {MANIFEST}")
    if sha256_file(manifest) != row["sha256"]:
        raise DamagedCheckpointError(f"checkpoint {row['dir']} is damaged: {MANIFEST} does not match the sha256 "
                                     "recorded in the project")
    try:
        files = dict(json.loads(manifest.read_bytes())["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DamagedCheckpointError(f"checkpoint {row['dir']} is damaged: {MANIFEST} is unreadable ({exc})") from exc
    for rel in files:
        if not inside(folder, rel, what=f"file {rel!r} in {MANIFEST} of checkpoint {row['dir']}").is_file():
            raise DamagedCheckpointError(f"checkpoint {row['dir']} is damaged: {rel} is missing")


def _row_at(store: ProjectStore, run: dict[str, Any], step: int) -> dict[str, Any]:
    rows = store.list_checkpoints(run["id"])
    for row in rows:
        if row["step"] == step:
            return row
    steps = ", ".join(str(r["step"]) for r in rows) or "none yet"
    raise NotFoundError(f"run {run['name']!r} has no checkpoint at step {step} (it has: {steps})")


def set_pinned(store: ProjectStore, run_id: int, step: int, pinned: bool) -> None:
    """Pin (or unpin) the checkpoint of run `run_id` at `step`; a pinned one is never thinned away."""
    store.require_writable("pinning a checkpoint")
    run = store.get_run(run_id)
    row = _row_at(store, run, int(step))
    store.update("checkpoints", row["id"], pinned=int(bool(pinned)))


def delete_checkpoint(store: ProjectStore, run_id: int, step: int) -> int:
    """Delete the checkpoint of run `run_id` at `step` (row, then folder); returns the bytes freed.

    Refused for the latest (the run resumes from it), the best and a pinned one, and while a process
    trains the run (its lock is held here throughout, so no trainer starts half-way)."""
    store.require_writable("deleting a checkpoint")
    run = store.get_run(run_id)
    lock = RunLock(store.root, run["id"], run["name"])
    try:
        lock.acquire(record_owner=False)
    except RunInUseError as exc:
        raise RunInUseError(f"checkpoint {step} cannot be deleted now: {exc}") from exc
    try:
        row = _row_at(store, run, int(step))
        reason = _kept_because(row)
        if reason:
            raise InvalidSpecError(f"checkpoint {step} of run {run['name']!r} is {reason}")
        folder = store.path(row["dir"], what=f"checkpoint {row['step']} of run {run['name']!r}")  # before any change
        freed = tree_size(folder) if folder.is_dir() else 0
        # the row goes first: a crash before the folder goes leaves only unlisted bytes, never a row
        # that points at missing files
        store.execute("DELETE FROM checkpoints WHERE id = ?", (row["id"],))
        shutil.rmtree(folder, ignore_errors=True)
        return freed
    finally:
        lock.release()


def _kept_because(row: dict[str, Any]) -> str:
    if row["is_latest"]:
        return "its latest (the run resumes from it), which is always kept; choose another step"
    if row["is_best"]:
        return "its best (lowest validation loss), which is always kept; choose another step"
    if row.get("pinned"):
        return "pinned; unpin it first, then delete it"
    return ""


def run_disk_usage(store: ProjectStore, run_id: int) -> int:
    """Bytes the run's folder takes (checkpoints, attention snapshots); 0 when it has none."""
    run = store.get_run(run_id)
    folder = store.path(run["dir"], what=f"the folder of run {run['name']!r}")
    return tree_size(folder) if folder.is_dir() else 0
