"""Shared by the command-line tests: run `workbench` in-process, and fingerprint a project."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from workbench.cli import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one `workbench` command run in this process."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def project_digest(root: Path) -> str:
    """Database content (via dump, so WAL state does not matter) plus the list of files.

    Equal digests before and after a command mean it left the project exactly as it was."""
    digest = hashlib.sha256()
    db = root / "project.db"
    try:
        con = sqlite3.connect(db)
        digest.update("\n".join(con.iterdump()).encode())
        con.close()
    except sqlite3.DatabaseError:
        digest.update(db.read_bytes())
    for path in sorted(p.relative_to(root).as_posix() for p in root.rglob("*")):
        if not path.startswith("project.db"):
            digest.update(path.encode())
    return digest.hexdigest()
