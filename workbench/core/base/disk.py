"""A full disk, said plainly: which write failed, about how much it needs, how much is free.

Every writer keeps its files whole on failure (temporary name, rename into place), so a full disk
costs only the write that failed; these helpers turn its `OSError(ENOSPC)` into a `DiskFullError`
whose message a user can act on, instead of a traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.core.base.errors import DiskFullError

# No space left, or the user's disk quota used up: the same remedy.
_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})

Needed = int | Callable[[], int | None] | None


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in _FULL_ERRNOS
    # copytree's shutil.Error lists its files' errors as text ("[Errno 28] ..."), and Rust writers
    # (safetensors' SafetensorError) say "(os error 28)"
    text = str(exc)
    return any(f"[Errno {n}]" in text or f"(os error {n})" in text for n in _FULL_ERRNOS)


def free_bytes(path: str | Path) -> int | None:
    """Free space for this user on the disk holding `path` (or its nearest existing folder)."""
    path = Path(path)
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                return shutil.disk_usage(candidate).free
        except OSError:
            return None
    return None


def size_text(n: int) -> str:
    for limit, unit in ((2**40, "TB"), (2**30, "GB"), (2**20, "MB"), (2**10, "KB")):
        if n >= limit:
            return f"{n / limit:.1f} {unit}"
    return f"{n} bytes"


def folder_size(path: Path) -> int:
    """Bytes of the regular files under `path` (0 when it is missing or unreadable). Links are not
    followed: in a project they lead elsewhere, and deleting the folder would not free them."""
    total = 0
    for parent, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except OSError:  # removed meanwhile, or unreadable: counts nothing
                continue
    return total


def disk_full_error(what: str, where: str | Path, needed: Needed = None, then: str = "") -> DiskFullError:
    """The error for `what` (e.g. "checkpoint 400") that did not fit on the disk holding `where`."""
    amount = needed() if callable(needed) else needed
    free = free_bytes(where)
    need = f" needs about {size_text(amount)}" if amount else " needs more space"
    have = f"has only {size_text(free)} free" if free is not None else "has no room left"
    return DiskFullError(f"the disk is full: {what}{need} but the disk holding {where} {have}; "
                         f"free some space{', then ' + then if then else ' and try again'}")


@contextmanager
def explain_disk_full(what: str, where: str | Path, needed: Needed = None, then: str = "") -> Iterator[None]:
    """Turn a full disk inside the block into a `DiskFullError`; other errors pass unchanged."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(what, where, needed, then) from exc
        raise
