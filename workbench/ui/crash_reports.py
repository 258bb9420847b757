"""Crash reports: a text file per crash in `crash-reports/` under the log folder, for Help > Crash Reports.

Two kinds of crash leave one:

- An uncaught Python exception (routed here by `errors.ExceptionHook`): `crash-YYYYmmdd-HHMMSS.txt`
  with the versions that matter and the traceback. A `WorkbenchError` is the user's to fix, not a
  crash, and leaves none.
- A hard crash in native code (a segfault or abort in Qt or torch) kills the process before any
  Python runs, so `FaultLog` points `faulthandler` at a file of this process from the start:
  `fault-YYYYmmdd-HHMMSS-p<PID>.txt`. It begins with the same header, then a marker; whatever follows
  the marker was written by faulthandler as the process died. A clean exit deletes the file; a file
  with nothing after its marker whose process is gone (killed, or the machine lost power) is
  deleted at the next start; one with a fault in it is a report.

No Qt widgets here (QtCore comes in only through `settings`), and torch or transformers are never
imported: their versions are read from `sys.modules` when the app had already loaded them.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from workbench import APP_NAME, __version__
from workbench.ui.settings import log_dir

FOLDER = "crash-reports"
MAX_REPORTS = 20
FAULT_MARKER = "--- faulthandler output (empty unless the app crashed) ---\n"
_HEAD_BYTES = 16_384  # enough to find the summary line of a report without reading a long traceback


@dataclass(frozen=True)
class CrashReport:
    path: Path
    time: float  # seconds since the epoch: when the crash was written down
    summary: str  # one line: the exception or the fatal error

    @property
    def title(self) -> str:
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.time))}  {self.summary}"


def reports_dir() -> Path:
    return log_dir() / FOLDER


def _loaded_version(module: str) -> str | None:
    """The version of an already imported module, else None (importing torch here would take seconds
    and could itself fail in a crashing process)."""
    loaded = sys.modules.get(module)
    return None if loaded is None else str(getattr(loaded, "__version__", "unknown"))


def environment_lines(project: str | None = None) -> list[str]:
    """`Name: value` lines that say which app, on what, crashed."""
    lines = [
        f"Version: {APP_NAME} {__version__}",
        f"Time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"Python: {platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        f"System: {platform.platform()} ({platform.machine()})",
        f"Frozen: {'yes (installed app)' if getattr(sys, 'frozen', False) else 'no'}",
    ]
    qt_core = sys.modules.get("PySide6.QtCore")
    if qt_core is not None:
        lines.append(f"Qt: {qt_core.qVersion()}, PySide6 {_loaded_version('PySide6')}")
    for label, module in (("PyTorch", "torch"), ("transformers", "transformers")):
        version = _loaded_version(module)
        if version is not None:
            lines.append(f"{label}: {version}")
    if project:
        lines.append(f"Project: {project}")
    lines.append(f"Process: {os.getpid()}")
    return lines


def _create_exclusive(folder: Path, stem: str, suffix: str = ".txt") -> tuple[Path, IO[str]]:
    """Open a new file `stem.txt`, or `stem-2.txt`, ... when two crashes share a second."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = folder / f"{stem}{'' if n == 1 else f'-{n}'}{suffix}"
        try:
            return path, open(path, "x", encoding="utf-8", newline="\n")
        except FileExistsError:
            continue
    raise FileExistsError(f"too many crash reports named {stem}* in {folder}")


def write_report(summary: str, details: str, thread: str = "", project: str | None = None,
                 folder: Path | None = None) -> Path:
    """Write a report of an uncaught exception (`details`: its formatted traceback); returns its path."""
    folder = folder or reports_dir()
    summary = " ".join(summary.split())  # one line: it titles the report in the list
    path, handle = _create_exclusive(folder, time.strftime("crash-%Y%m%d-%H%M%S"))
    with handle:
        handle.write(f"{APP_NAME} crash report\n\n")
        handle.write(f"Error: {summary}\n")
        if thread:
            handle.write(f"Thread: {thread}\n")
        handle.write("\n".join(environment_lines(project)) + "\n\n")
        handle.write(details if details.endswith("\n") else details + "\n")
    prune(folder)
    return path


def _fault_summary(text: str) -> str:
    fault = text.split(FAULT_MARKER, 1)[-1]
    for line in fault.splitlines():
        if line.startswith(("Fatal Python error", "Windows fatal exception")):
            return line.strip()
    return "The app stopped unexpectedly"


def read_report(path: Path) -> CrashReport | None:
    """The report in `path`, or None when it is not one (a fault file with no fault in it)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(_HEAD_BYTES)
        mtime = path.stat().st_mtime
    except OSError:
        return None
    if path.name.startswith("fault-"):
        if not _has_fault(path, head):
            return None
        return CrashReport(path, mtime, _fault_summary(head))
    summary = next((line[len("Error: "):] for line in head.splitlines() if line.startswith("Error: ")), path.name)
    return CrashReport(path, mtime, summary)


def _has_fault(path: Path, head: str) -> bool:
    if FAULT_MARKER not in head:
        return bool(head.strip())
    if head.split(FAULT_MARKER, 1)[1].strip():
        return True
    try:  # a header longer than what was read: look past it
        return path.stat().st_size > len(head.encode("utf-8"))
    except OSError:
        return False


def _candidates(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from folder.glob("crash-*.txt")
        yield from folder.glob("fault-*.txt")


def list_reports(folder: Path | None = None) -> list[CrashReport]:
    """Every report in `folder`, newest first."""
    reports = [r for r in (read_report(p) for p in _candidates(folder or reports_dir())) if r is not None]
    return sorted(reports, key=lambda r: (r.time, r.path.name), reverse=True)


def prune(folder: Path | None = None, keep: int = MAX_REPORTS) -> list[Path]:
    """Delete all but the newest `keep` reports; returns what was deleted."""
    removed = []
    for report in list_reports(folder)[keep:]:
        try:
            report.path.unlink()
            removed.append(report.path)
        except OSError:
            pass  # open in an editor on Windows: it goes next time
    return removed


def _fault_pid(path: Path) -> int | None:
    tail = path.stem.rsplit("-p", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else None


def _process_alive(pid: int, since: float) -> bool:
    """Whether process `pid` is the one that created a file at `since` (not a later one given its number)."""
    try:
        return psutil.Process(pid).create_time() <= since + 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def remove_stale_fault_files(folder: Path | None = None) -> list[Path]:
    """Delete fault files with no fault in them whose process has ended; returns what was deleted."""
    folder = folder or reports_dir()
    removed = []
    for path in folder.glob("fault-*.txt") if folder.is_dir() else ():
        pid = _fault_pid(path)
        try:
            if read_report(path) is not None or (pid is not None and _process_alive(pid, path.stat().st_mtime)):
                continue  # a report, or the file of a window that is still open
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


class FaultLog:
    """faulthandler writing into this process's fault file, from `start()` until a clean `stop()`."""

    def __init__(self, path: Path, handle: IO[str], previous_enabled: bool) -> None:
        self.path = path
        self._handle: IO[str] | None = handle
        self._previous_enabled = previous_enabled

    @classmethod
    def start(cls, folder: Path | None = None, project: str | None = None) -> FaultLog:
        folder = folder or reports_dir()
        remove_stale_fault_files(folder)
        prune(folder)
        path, handle = _create_exclusive(folder, time.strftime("fault-%Y%m%d-%H%M%S") + f"-p{os.getpid()}")
        handle.write(f"{APP_NAME} crash report (the app stopped in native code)\n\n")
        handle.write("\n".join(environment_lines(project)) + "\n\n" + FAULT_MARKER)
        handle.flush()  # faulthandler writes to the descriptor, after what is flushed here
        previous = faulthandler.is_enabled()
        faulthandler.enable(file=handle, all_threads=True)
        return cls(path, handle, previous)

    def stop(self) -> None:
        """A clean exit: stop recording and delete the file unless something was written to it."""
        if self._handle is None:
            return
        faulthandler.disable()
        if self._previous_enabled and sys.stderr is not None:
            # Hand faulthandler back to stderr, as it was (pytest and `python -X faulthandler` enable it);
            # a windowed app's stderr may have no descriptor.
            with contextlib.suppress(ValueError, OSError, AttributeError):
                faulthandler.enable(file=sys.stderr)
        self._handle.close()
        self._handle = None
        if read_report(self.path) is None:
            self.path.unlink(missing_ok=True)
