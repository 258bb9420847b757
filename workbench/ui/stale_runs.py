"""Notice, while the window is open, runs whose training process died.

The process that trains a run holds the run's lock (`core.project.run_lock`) until it ends; the
operating system lets go of it the moment the process dies, and never while it lives, even
suspended. Opening a project marks runs still "running" whose lock is free `interrupted`; this
watcher repeats that check every `interval_ms` while a project stays open, so a `workbench train`
killed in a terminal (or a crashed process) shows as interrupted, and resumable, without reopening
the project. A check costs one query and, per running run, one attempt at a lock.

While this window trains, its own run is left out of the check, as a second guard (this window
knows it is alive; its lock says so too), and the others are still checked; until the training job
has made its run (its id is not known yet) the check is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 2_000  # a killed trainer shows as interrupted within about this long


class StaleRunWatcher(QObject):
    """Emits `runsInterrupted(names)` after it marked runs of the open project interrupted."""

    runsInterrupted = Signal(list)

    def __init__(self, store_of: Callable[[], ProjectStore | None], training_here: Callable[[], bool],
                 parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS,
                 live_run: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(parent)
        self._store_of = store_of
        self._training_here = training_here
        self._live_run = live_run
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    @Slot()
    def check(self) -> list[str]:
        """Mark runs of dead processes interrupted; the names of those it marked (never the run this
        window trains)."""
        store = self._store_of()
        if store is None or store.read_only:  # read-only: nothing may be marked
            return []
        keep: tuple[int, ...] = ()
        if self._training_here():
            live = self._live_run()
            if live is None:
                return []
            keep = (live,)
        try:
            ids = store.mark_interrupted_runs(keep)
            names = [store.get_run(run_id)["name"] for run_id in ids]
        except WorkbenchError as exc:  # the database is busy or gone: try again at the next tick
            log.info("stale-run check skipped: %s", exc)
            return []
        if names:
            self.runsInterrupted.emit(names)
        return names
