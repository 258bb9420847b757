"""Paths read from a project are confined to it.

Projects are zipped and shared, so `project.db` and the manifests inside a project are untrusted
input: a row whose `dir` is `../victim`, an absolute path, or a symlink inside the project that
leads out of it must never be read, written or deleted. Every stored path goes through `inside`,
which resolves it after symlinks and refuses anything that is not strictly below its root (the
root itself is refused too: a checkpoint row of "." would otherwise delete the whole project).
"""

from __future__ import annotations

from pathlib import Path

from workbench.core.base.errors import OutsideProjectError


def inside(root: str | Path, *parts: str | Path, what: str = "an entry of the project database") -> Path:
    """`root / parts...` resolved after symlinks; `OutsideProjectError` unless it lies below `root`.

    `what` names the row or manifest entry in the message, so the user knows which one to remove.
    """
    shown = "/".join(str(p) for p in parts)
    if not parts or not all(isinstance(p, (str, Path)) and str(p) for p in parts):
        raise OutsideProjectError(f"{what} has no valid path ({shown or 'empty'!r}); the project is damaged: "
                                  "remove that entry or restore the project from a copy you trust")
    try:
        base = Path(root).resolve()
        target = base.joinpath(*parts).resolve(strict=False)
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte in the path
        raise OutsideProjectError(f"{what} has an unusable path {shown!r} ({exc}); the project is damaged: "
                                  "remove that entry or restore the project from a copy you trust") from exc
    if target == base or not target.is_relative_to(base):
        raise OutsideProjectError(
            f"{what} points at {shown!r}, which lies outside the folder it belongs to ({base}); the project may "
            "have been tampered with, so nothing was read or changed there: remove that entry or restore the "
            "project from a copy you trust")
    return target
