"""One writer per run, across processes: the process that trains a run holds an OS lock on it.

`RunLock(root, run_id, name)` takes an exclusive `filelock` lock on `locks/run-<id>.lock` in the
project and keeps it for the whole training session. The operating system drops the lock when the
process ends, however it ends, and keeps it while the process lives, even suspended (SIGSTOP, a
laptop asleep). So whether a run is still being trained is decided by whether its lock can be taken
(`lock_is_free`), not by the age of its heartbeat: a live process is never declared dead, and a
killed one is seen as dead at once.

Beside the lock, `run-<id>.owner` (JSON: pid, host, since) names the holder for messages. The holder
writes it after taking the lock and removes it before releasing. A check (`lock_is_free`) also
holds the lock, for a few milliseconds and without an owner file, so a trainer that finds the lock
taken but no live owner waits a moment for the check to end instead of refusing.

The lock lives under the project's root and is named by the run's id, not by a path read from the
database, so a tampered row cannot point it elsewhere. Locks over network file systems are as good
as their locking: where `flock` is missing, `filelock` falls back to a marker file (with a warning).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil
from filelock import FileLock, Timeout

from workbench.core.base.errors import ReadOnlyProjectError, RunInUseError, WorkbenchError
from workbench.core.project.paths import inside

LOCKS_FOLDER = "locks"
CHECK_WAIT_S = 5.0  # how long a trainer waits out a holder without an owner file (a check, or a holder starting)
_POLL_S = 0.05


def lock_path(root: Path, run_id: int) -> Path:
    """`locks/run-<id>.lock`; `OutsideProjectError` when `locks` is a link out of the project (a shared
    project is untrusted: its lock and owner files must not be made or removed elsewhere)."""
    return inside(root, LOCKS_FOLDER, what="the folder of run locks") / f"run-{int(run_id)}.lock"


def _owner_path(root: Path, run_id: int) -> Path:
    return lock_path(root, run_id).with_suffix(".owner")


def read_owner(root: Path, run_id: int) -> dict[str, Any] | None:
    """The recorded holder of run `run_id`'s lock ({"pid", "host", "since"}), or None."""
    try:
        owner = json.loads(_owner_path(root, run_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def _owner_alive(owner: dict[str, Any] | None) -> bool:
    """False only for an owner of this host whose process is gone (a file a killed trainer left)."""
    pid = (owner or {}).get("pid")
    if owner is None or not isinstance(pid, int) or isinstance(pid, bool):
        return False  # none, or not one this code wrote
    if owner.get("host") != socket.gethostname():
        return True  # cannot look at another machine's processes
    return psutil.pid_exists(pid)


def refuse_if_trained(root: Path, run_id: int, name: str) -> None:
    """Raise `RunInUseError` when a live process trains run `run_id` (a check's brief hold is waited out)."""
    probe = RunLock(root, run_id, name)
    try:
        probe.acquire(record_owner=False)
    except ReadOnlyProjectError:
        return  # no lock can be made here, so none is held: training itself will refuse the folder
    probe.release()


def in_use_message(name: str, owner: dict[str, Any] | None) -> str:
    host = "".join(ch for ch in str((owner or {}).get("host")) if ch.isprintable())[:100]  # read from a file
    who = f"process {int(owner['pid'])} on host {host}" if owner is not None else "another process"
    return f"run {name!r} is being trained by {who}; wait for it or stop it"


class RunLock:
    """The exclusive right to write one run's rows and files; `with RunLock(...):` holds it."""

    def __init__(self, root: Path, run_id: int, name: str) -> None:
        self.root, self.run_id, self.name = Path(root), int(run_id), name
        self.path = lock_path(root, run_id)
        self._lock: FileLock | None = None

    @property
    def held(self) -> bool:
        return self._lock is not None

    def acquire(self, wait_s: float = CHECK_WAIT_S, record_owner: bool = True) -> RunLock:
        """Take the lock, or raise `RunInUseError` naming the process that trains the run."""
        if self._lock is not None:
            return self
        try:
            self.path.parent.mkdir(exist_ok=True)
        except OSError as exc:
            raise ReadOnlyProjectError(f"cannot lock run {self.name!r} for training in {self.root}: "
                                       f"{exc.strerror}; copy the project somewhere writable") from exc
        lock = FileLock(str(self.path), thread_local=False)
        deadline = time.monotonic() + wait_s
        while not _try(lock, self.name):
            owner = read_owner(self.root, self.run_id)
            if _owner_alive(owner) or time.monotonic() >= deadline:
                raise RunInUseError(in_use_message(self.name, owner if _owner_alive(owner) else None))
            time.sleep(_POLL_S)
        self._lock = lock
        if not record_owner:
            return self
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        with suppress(OSError):  # the owner only words messages; the lock itself is what counts
            _write_atomic(_owner_path(self.root, self.run_id), json.dumps(record))
        return self

    def release(self) -> None:
        if self._lock is None:
            return
        with suppress(OSError):
            _owner_path(self.root, self.run_id).unlink(missing_ok=True)
        self._lock.release()
        self._lock = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try(lock: FileLock, name: str) -> bool:
    """One attempt at the lock: True when taken, False when another holder has it."""
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    except OSError as exc:
        raise WorkbenchError(f"cannot lock run {name!r} for training ({exc.strerror or exc}); "
                             "check that the project folder is writable") from exc
    return True


@contextmanager
def lock_is_free(root: Path, run_id: int) -> Iterator[bool | None]:
    """Whether no process trains run `run_id`: True (its trainer is gone; the lock is held here until
    the block ends, so none can start meanwhile), False (a live process holds it), None (cannot tell:
    the lock file cannot be made or opened, as on a read-only project)."""
    try:
        path = lock_path(root, run_id)
        lock = FileLock(str(path), thread_local=False)
        path.parent.mkdir(exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        free: bool | None = False
    except (OSError, WorkbenchError):  # unwritable, or a `locks` link out of the project
        free = None
    else:
        free = True
    if not free:
        yield free
        return
    try:
        with suppress(OSError):  # a killed trainer's owner file: nobody owns the run now
            _owner_path(root, run_id).unlink(missing_ok=True)
        yield True
    finally:
        lock.release()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
