"""One window per project: a window of the app holds an OS lock on the project it has open.

Two windows writing one project (saving model settings, importing, marking runs, training) could
overwrite each other's changes, so a window takes an exclusive `filelock` lock on
`locks/window.lock` while it has a project open; a second window that finds it taken offers to
open the project read-only instead. The operating system drops the lock when the holder ends,
however it ends, so a killed window never blocks its project.

The command line does not take or check this lock: `workbench train` into a project that a window
has open stays allowed (each run has its own lock, `run_lock`, and the window only reads it).

Beside the lock, `window.owner` (JSON: pid, host, since) names the holder for the message; it is
written after the lock is taken and removed before it is released. Two `FileLock`s on one file
conflict even inside one process (`flock` locks open file descriptions), so two windows of one
process exclude each other too. Where the lock cannot be made (a read-only folder, a `locks` link
out of the project, a folder that is not a project) there is simply no lock: such a folder opens
read-only, or not at all, anyway.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.paths import inside
from workbench.core.project.run_lock import LOCKS_FOLDER
from workbench.core.project.sql import DB_NAME

LOCK_NAME = "window.lock"


class ProjectOpenElsewhereError(WorkbenchError):
    """Another window of the app has the project open; `owner` is its recorded holder, if any."""

    def __init__(self, message: str, owner: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.owner = owner


def window_lock_path(root: str | Path) -> Path:
    """`locks/window.lock`; `OutsideProjectError` when `locks` is a link out of the project (a shared
    project is untrusted: its lock and owner files must not be made or removed elsewhere)."""
    return inside(root, LOCKS_FOLDER, what="the folder of project locks") / LOCK_NAME


def _owner_path(root: str | Path) -> Path:
    return window_lock_path(root).with_suffix(".owner")


def read_window_owner(root: str | Path) -> dict[str, Any] | None:
    """The recorded holder of the project's window lock ({"pid", "host", "since"}), or None."""
    try:
        owner = json.loads(_owner_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError, WorkbenchError):
        return None
    return owner if isinstance(owner, dict) else None


def holder_words(owner: dict[str, Any] | None) -> str:
    """"process 123 on host box" for the message, or "" when the owner file is missing or odd (it is
    read from a shared folder, so only a whole number and printable characters are shown)."""
    pid = (owner or {}).get("pid")
    if owner is None or not isinstance(pid, int) or isinstance(pid, bool):
        return ""
    host = "".join(ch for ch in str(owner.get("host")) if ch.isprintable())[:100]
    return f"process {pid} on host {host}"


class WindowLock:
    """The exclusive right of one window to write a project; `release()` when the project closes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.path = window_lock_path(self.root)
        self._lock: FileLock | None = None

    @property
    def held(self) -> bool:
        return self._lock is not None

    def acquire(self) -> WindowLock:
        """Take the lock at once or raise `ProjectOpenElsewhereError`; `OSError` when it cannot be made."""
        if self._lock is not None:
            return self
        self.path.parent.mkdir(exist_ok=True)
        lock = FileLock(str(self.path), thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            owner = read_window_owner(self.root)
            who = holder_words(owner)
            raise ProjectOpenElsewhereError(
                f"the project {self.root.name} is open in another LM Workbench window"
                f"{f' ({who})' if who else ''}", owner) from None
        self._lock = lock
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        with suppress(OSError):  # the owner only words messages; the lock itself is what counts
            tmp = self.path.with_name(f".window.owner.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, _owner_path(self.root))
        return self

    def release(self) -> None:
        if self._lock is None:
            return
        with suppress(OSError):
            _owner_path(self.root).unlink(missing_ok=True)
        self._lock.release()
        self._lock = None


def take_window_lock(root: str | Path) -> WindowLock | None:
    """The project's window lock, taken; None where none can be made (a read-only folder, a `locks`
    link out of the project, or a folder with no project database, which must not gain a `locks`
    folder); `ProjectOpenElsewhereError` when another window holds it."""
    if not (Path(root) / DB_NAME).is_file():
        return None
    try:
        return WindowLock(root).acquire()
    except ProjectOpenElsewhereError:
        raise
    except (OSError, WorkbenchError):
        return None
