"""A run's life after training: rename it, measure its files, delete it with them.

The window and the command line call these; none of them loads torch. Deleting holds the run's lock
(`run_lock.RunLock`) while it works, so a run that a live process trains (in this window or another)
is refused, and no trainer can start on it half-way through.

    freed = run_disk_usage(store, "gpt2-shake")        # bytes its folder takes
    rename_run(store, "gpt2-shake", "baseline")
    freed = delete_run(store, "baseline")              # the bytes that were freed
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.project.checkpoint_history import run_disk_usage, tree_size
from workbench.core.project.run_lock import RunLock
from workbench.core.project.store import ProjectStore

__all__ = ["check_run_name", "delete_run", "rename_run", "resumable", "run_disk_usage", "run_folder"]
RESUMABLE_STATUSES = ("stopped", "interrupted", "queued", "finished")  # finished: with a larger max steps
MAX_NAME_CHARS = 100


def run_folder(store: ProjectStore, run: dict[str, Any]) -> Path:
    """The run's folder (confined to the project: the database of a shared project is untrusted)."""
    return store.path(run["dir"], what=f"the folder of run {run['name']!r}")


def check_run_name(store: ProjectStore, name: str, current: str | None = None) -> str:
    """The cleaned name, or `InvalidSpecError` saying what is wrong with it."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidSpecError("a run name cannot be empty")
    if len(cleaned) > MAX_NAME_CHARS or not cleaned.isprintable():
        raise InvalidSpecError(f"a run name must be printable text of at most {MAX_NAME_CHARS} characters")
    if cleaned != current and store.name_taken("runs", cleaned):
        raise InvalidSpecError(f"a run named {cleaned!r} already exists in this project; choose another name")
    return cleaned


def rename_run(store: ProjectStore, key: str | int, new_name: str) -> dict[str, Any]:
    """Rename the run (its folder keeps its name: only the row changes); returns the updated row."""
    store.require_writable("renaming a run")
    run = store.get_run(key)
    name = check_run_name(store, new_name, current=run["name"])
    if name != run["name"]:
        store.update("runs", run["id"], name=name)
    return store.get_run(run["id"])


def delete_run(store: ProjectStore, key: str | int) -> int:
    """Delete the run's rows (metrics, checkpoints, samples, snapshots go with it) and its folder;
    returns the bytes freed. `RunInUseError` while a live process trains it."""
    store.require_writable("deleting a run")
    run = store.get_run(key)
    folder = run_folder(store, run)
    with RunLock(store.root, run["id"], run["name"]).acquire(wait_s=1.0, record_owner=False):
        size = tree_size(folder) if folder.is_dir() else 0
        # the row first: a folder left behind by a failed removal is only wasted space, while a row
        # whose files are gone would be a broken run
        store.execute("DELETE FROM runs WHERE id = ?", (run["id"],))
        try:
            if folder.is_dir():
                shutil.rmtree(folder)
        except OSError as exc:
            raise WorkbenchError(f"run {run['name']!r} was deleted but its folder {folder} could not be removed "
                                 f"({exc.strerror or exc}); remove it by hand") from exc
    return size


def resumable(run: dict[str, Any]) -> bool:
    """Whether the window offers to resume the run (a live or failed run is not)."""
    return run["status"] in RESUMABLE_STATUSES
