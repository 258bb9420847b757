"""The project's generation history: the `generations` table, written by `workbench generate` and
the playground, read by the playground's history list and exported as JSONL.

One row per sample: a generation of three samples is three rows sharing prompt, settings, run,
checkpoint step and time. `settings` is JSON: the `SampleSpec` as a dict plus `mode` ("generate";
from the window also "branch" and "side-by-side", with the column's number in `column`; or
"fill-mask", whose settings are its `top_k` alone), and `stopped: true` when the user stopped it
before it ended by itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore, now_iso

HISTORY_LIMIT = 500  # the list shows the newest ones; the table keeps everything


def save_generations(store: ProjectStore, run_id: int | None, step: int | None, prompt: str,
                     settings: dict[str, Any], texts: Sequence[str]) -> list[int]:
    """Save each sample's text as one row (one transaction); returns the new row ids."""
    created = now_iso()
    ids = []
    with store.transaction() as conn:
        for text in texts:
            cursor = conn.execute(
                "INSERT INTO generations (run_id, checkpoint_step, prompt, settings, text, created) "
                "VALUES (?, ?, ?, ?, ?, ?)", (run_id, step, prompt, json.dumps(settings), text, created))
            ids.append(int(cursor.lastrowid or 0))
    return ids


def list_generations(store: ProjectStore, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The newest generations first, with the run's name and `settings` decoded (a dict)."""
    rows = store.query(
        "SELECT g.id, g.run_id, r.name AS run, g.checkpoint_step, g.prompt, g.settings, g.text, g.created "
        "FROM generations g LEFT JOIN runs r ON r.id = g.run_id ORDER BY g.id DESC LIMIT ?", (limit,))
    for row in rows:
        row["settings"] = _settings(row["settings"])
    return rows


def _settings(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):  # a hand-edited or damaged row still lists
        return {}
    return value if isinstance(value, dict) else {}


def export_jsonl(rows: Sequence[dict[str, Any]], path: str | Path) -> int:
    """Write one JSON object per line (written to a temporary name, then renamed); returns the count."""
    path = Path(path)
    keys = ("id", "run", "checkpoint_step", "prompt", "text", "settings", "created")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as out:
            for row in rows:
                out.write(json.dumps({k: row.get(k) for k in keys}, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise WorkbenchError(f"cannot write {path}: {reason}; choose a folder you can write to") from exc
    return len(rows)
