"""The checkpoint chooser of the Playground and Attention panels, live weights included.

Each run offers "Latest (step N)", "Best validation loss (step M)" and every kept step. While a run
is paused (status "paused" in the store, whoever trains it) it also offers
"live (paused at step N)" first.

Live weights decision: the live choice loads the checkpoint the training loop writes as it pauses
(`core/training/loop.py`, `_paused`), not the model in the training thread's memory. Those are the
same weights (nothing changes while paused); reading them from disk needs no cross-thread access to
a model the training thread owns (only numbers cross threads, DESIGN.md section 3); the file is
verified like every other checkpoint; and it works the same for a run paused by another process
(`workbench train` in a terminal, another window), whose memory this window cannot reach. So the
live choice's key is simply that step, and a generation or attention job loads it like any step.

`ChoicesWatch` notices runs and checkpoints changed by other processes (a checkpoint saved, a run
paused or resumed), so the choosers follow them while their panel is visible; the window's own
training job tells the panels at once (`ui/jobs/controller.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore

LATEST = "latest"
WATCH_INTERVAL_MS = 2_000  # as often as the stale-run check: one small query


def live_label(step: int) -> str:
    return f"live (paused at step {step})"


def checkpoint_choices(store: ProjectStore | None, run_name: str | None) -> list[tuple[str, str]]:
    """(label, key) for each checkpoint of the run called `run_name`; keys as `--checkpoint` takes them
    ("latest", "best", a step). Empty without a run or a checkpoint."""
    if store is None or run_name is None:
        return []
    rows = store.query(
        "SELECT c.step, c.is_latest, c.is_best, c.val_loss, r.status FROM checkpoints c "
        "JOIN runs r ON r.id = c.run_id WHERE r.name = ? ORDER BY c.step", (run_name,))
    if not rows:
        return []
    latest = max((r["step"] for r in rows if r["is_latest"]), default=rows[-1]["step"])
    flagged = [r["step"] for r in rows if r["is_best"]]
    with_loss = [r for r in rows if r["val_loss"] is not None]
    best = flagged[-1] if flagged else min(with_loss, key=lambda r: r["val_loss"])["step"] if with_loss else latest
    choices = []
    live = latest if rows[0]["status"] == "paused" else None  # the loop saved `latest` as it paused
    if live is not None:
        choices.append((live_label(live), str(live)))
    choices += [(f"Latest (step {latest})", LATEST), (f"Best validation loss (step {best})", "best")]
    choices += [(f"Step {r['step']}", str(r["step"])) for r in reversed(rows) if r["step"] != live]
    return choices


def fill_checkpoint_combo(combo: QComboBox, choices: list[tuple[str, str]], keep: bool = True) -> None:
    """Fill `combo` with `choices`; with `keep`, the chosen key stays chosen while it is offered,
    else (and for another run) "latest". Emits no change signals while it fills."""
    shown = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
    if keep and shown == choices:
        return  # unchanged: an open drop-down list stays open
    current = combo.currentData() if keep else None
    combo.blockSignals(True)
    combo.clear()
    for label, key in choices:
        combo.addItem(label, key)
    index = combo.findData(current) if current is not None else -1
    combo.setCurrentIndex(index if index >= 0 else max(combo.findData(LATEST), 0 if combo.count() else -1))
    combo.blockSignals(False)


def runs_state(store: ProjectStore | None) -> tuple:
    """What the choosers show, as one comparable value: each run's name, status and checkpoints (not
    its step, which changes every few seconds while it trains: a refill would close an open list)."""
    if store is None:
        return ()
    try:
        rows = store.query(
            "SELECT r.id, r.name, r.status, COUNT(c.id) AS n, MAX(c.step) AS last FROM runs r "
            "LEFT JOIN checkpoints c ON c.run_id = r.id GROUP BY r.id ORDER BY r.id")
    except WorkbenchError:  # busy or closed: try again at the next tick
        return ()
    return tuple(tuple(row.values()) for row in rows)


class ChoicesWatch(QObject):
    """Calls `refresh` when the runs or checkpoints of the store changed, every `interval_ms` while
    `panel` is visible (a tabbed-away panel is refreshed when it is shown again)."""

    changed = Signal()

    def __init__(self, panel: QWidget, store_of: Callable[[], ProjectStore | None],
                 interval_ms: int = WATCH_INTERVAL_MS) -> None:
        super().__init__(panel)
        self._panel, self._store_of = panel, store_of
        self._seen: Any = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def mark_seen(self) -> None:
        """The panel has just refreshed: what it shows is the store's present state."""
        self._seen = runs_state(self._store_of())

    @Slot()
    def check(self) -> bool:
        if not self._panel.isVisible():
            return False
        state = runs_state(self._store_of())
        if state == self._seen:
            return False
        self._seen = state
        self.changed.emit()
        return True
