"""What the status bar says about jobs: a notice or progress event, and how a training job ended.

Kept out of `controller.py` (which decides *when* to say them) so each file stays readable.
A stopped training job whose generator was closed returns nothing; its run's row in the store
says how it ended, since the job records that before its thread ends.
"""

from __future__ import annotations

from typing import Any

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Notice, Progress, RunFinished


def event_message(event: Any) -> str:
    """A `Notice` or `Progress` in words for the status bar; "" for any other event."""
    if isinstance(event, Notice):
        return event.message
    if isinstance(event, Progress):
        total = f" of {event.total:,}" if event.total else ""
        return f"{event.message or event.stage}: {event.done:,}{total} {event.unit}"
    return ""


def stored_ending(store: Any, run_id: int | None) -> RunFinished | None:
    """How the run ended, as its job recorded it in the store."""
    if run_id is None or store is None:
        return None
    try:
        run = store.get_run(run_id)
    except WorkbenchError:
        return None
    return RunFinished(run_id, run["status"], int(run["step"]), run["message"] or "")


def run_name(store: Any, run_id: int) -> str:
    try:
        return repr(store.get_run(run_id)["name"]) if store is not None else str(run_id)
    except WorkbenchError:
        return str(run_id)


def training_ended(store: Any, outcome: str, result: object) -> str:
    """The status line for a training job that ended with `outcome` and returned `result`."""
    if isinstance(result, RunFinished):
        return f"Run {run_name(store, result.run_id)} {result.status} at step {result.step}. {result.message}".strip()
    return {"finished": "Training finished.", "stopped": "Training stopped.", "failed": "Training failed."}.get(outcome, "")
