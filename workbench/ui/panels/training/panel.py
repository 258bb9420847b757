"""The training panel: the project's runs, their curves, samples and settings diff; pause and stop.

Its parts live beside it: the runs table (`runs_table`), the comparison table (`run_diff`), the
samples by step (`samples_view`), the run actions (`run_actions`) and the hand-over of runs to the
curves widget (`curve_feed`).

While a run trains in this window the curves follow it live (`live_curves`): `add_events` takes
the batches of `StepLogged` / `EvalFinished` events the job runner delivers (at most 10 a second)
and appends them, and the other selected runs stay overlaid from the store. Otherwise the curves
show the metrics stored for the selected runs, overlaid.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QPushButton,
    QToolButton,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.ops.run_summary import run_summaries, settings_diff
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.training.curve_feed import CurveFeed, load_curves
from workbench.ui.panels.training.layout import build_layout
from workbench.ui.panels.training.live_curves import LiveCurves
from workbench.ui.panels.training.run_actions import RunActions
from workbench.ui.panels.training.run_diff import RunDiffTable
from workbench.ui.panels.training.runs_table import RunsTable, run_cells
from workbench.ui.panels.training.samples_view import SamplesView
from workbench.ui.widgets.charts.live import live_points
from workbench.ui.widgets.charts.view import CurvesView
from workbench.ui.widgets.forms import plain_label, set_available
from workbench.ui.wording import for_window

NOT_RUNNING = "No training run is in progress in this window."
TABLE_REFRESH_MS = 2000


class TrainingPanel(QWidget):
    """objectName `trainingPanel`. Emits `pauseToggled(bool)`, `stopRequested()`, `runSelected(id)`,
    `resumeRequested(id, max steps)`, `cloneRequested(id)`, `openRequested(target, id, step)` and
    `runsChanged()` (a run was renamed or deleted)."""

    pauseToggled = Signal(bool)
    stopRequested = Signal()
    runSelected = Signal(object)  # run id or None
    resumeRequested = Signal(int, int)
    cloneRequested = Signal(int)
    openRequested = Signal(str, int, int)
    runsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self._store: ProjectStore | None = None
        self._live = False
        self._live_run: int | None = None  # the run the live job trains, once known
        self._runs_before: set[int] | None = None  # the runs there were when it started
        self._selected: list[int] = []
        self._overlay: list[int] = []  # the runs selected when it started: they stay on the curves
        self._live_selected = False  # the live run has been selected in the table once
        self.runs = RunsTable()
        self.filter = QLineEdit()
        self.filter.setObjectName("runFilter")
        self.filter.setPlaceholderText("Filter runs")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(220)
        self.actions = RunActions(self)
        self.run_button = QToolButton()
        self.run_button.setObjectName("runActionsButton")
        self.run_button.setText("Run")
        self.run_button.setMenu(self.actions.menu)
        self.run_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.plot = CurvesView()  # every recorded series; its grid of plots is `lossPlot`
        self.feed = CurveFeed(self.plot)
        self.live = LiveCurves(self.feed)
        self.diff = RunDiffTable()
        self.samples = SamplesView()
        self.info = plain_label("")
        self.info.setObjectName("runInfo")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseTrainingButton")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopTrainingButton")
        self.stop_button.clicked.connect(self.stopRequested)
        build_layout(self)

        self._table_timer = QTimer(self)
        self._table_timer.setInterval(TABLE_REFRESH_MS)
        self._table_timer.timeout.connect(self._refresh_table)
        self.runs.selectionChangedKeys.connect(self._runs_selected)
        self.runs.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.runs.customContextMenuRequested.connect(self._context_menu)
        self.filter.textChanged.connect(self.runs.apply_filter)
        self.actions.resumeRequested.connect(self.resumeRequested)
        self.actions.cloneRequested.connect(self.cloneRequested)
        self.actions.changed.connect(self._runs_changed)
        self.samples.openRequested.connect(self.openRequested)
        self.samples.pinChanged.connect(self._pin_changed)
        self.actions.pinChanged.connect(self._pinned_from_menu)
        self.plot.pointClicked.connect(self.pick_step)  # a validation point: its sample and checkpoint
        self.set_job_state(running=False)

    # ---- project -------------------------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.actions.set_store(store)
        self.feed.clear()
        self.info.setText("")
        self.refresh()

    def refresh(self, select_run: int | None = None) -> None:
        """Reload the runs; select `select_run` (or keep the selection, or take the newest)."""
        runs = self._store.list_runs() if self._store else []
        if select_run is None and self._live and not self._live_selected:
            # the selection follows the run that trains, once it is known (`live_run` may have been
            # asked before, by the stale-run watcher, so whether it was selected is kept apart)
            select_run = self.live_run()
        keep = select_run if select_run is not None else self.runs.selected_key()
        if keep is None and runs and not self._live:  # while training, wait for the live run instead
            keep = runs[-1]["id"]
        summaries = run_summaries(self._store, runs) if self._store else {}
        select = keep if select_run is not None or not self.runs.selected_keys() else None
        overlay = [k for k in self._overlay if k != select and any(r["id"] == k for r in runs)]
        if select is not None and select == self._live_run:
            self._live_selected = True
        if select is not None and select == self._live_run and overlay:
            self._overlay = []  # the live run found (or ended): shown with the runs selected before it
            self.runs.blockSignals(True)  # one change of selection, not two
            self.runs.set_records([(r["id"], run_cells(r, summaries.get(r["id"]))) for r in runs], select=select)
            self.runs.blockSignals(False)
            self.runs.select_keys([select, *overlay])
            return
        self.runs.set_records([(r["id"], run_cells(r, summaries.get(r["id"]))) for r in runs], select=select)

    def _refresh_table(self) -> None:
        self.refresh()

    def selected_run(self) -> int | None:
        return self.runs.selected_key()

    def selected_runs(self) -> list[int]:
        """The selected runs, the one shown in detail first."""
        return list(self._selected)

    def _runs_selected(self, keys: list) -> None:
        changed = keys != self._selected
        self._selected = list(keys)
        run_id = keys[0] if keys else None
        self._update_actions()
        if not changed:
            return  # a table refresh that kept the selection: the curves and tables stay as they are
        self.runSelected.emit(run_id)
        self._show_diff()
        self.samples.show_run(self._store, run_id)
        if self._live:  # the curves follow the live run, the other selected runs beside it
            self.live.show(self._store, self.live_run(), list(keys))
            return
        self.show_stored_metrics(run_id)

    def show_stored_metrics(self, run_id: int | None) -> None:
        if self._store is None or run_id is None:
            self.feed.clear()
            self.info.setText("")
            return
        others = [k for k in self._selected if k != run_id]
        try:
            self.feed.show([load_curves(self._store, key) for key in (run_id, *others)])
            run = self._store.get_run(run_id)
        except WorkbenchError as exc:  # deleted meanwhile by another window
            self.info.setText(for_window(str(exc)))
            return
        self.info.setText(for_window(run["message"]) if run["message"] else f"{run['name']}: {run['status']} at step {run['step']}")

    def _show_diff(self) -> None:
        if self._store is None or len(self._selected) < 2:
            self.diff.set_diff([], [])
            return
        try:
            runs = [self._store.get_run(key) for key in self._selected]
        except WorkbenchError:
            return
        self.diff.set_diff([r["name"] for r in runs], settings_diff(self._store, runs))
        self.side.setCurrentWidget(self.diff)

    def _update_actions(self) -> None:
        run = None
        if self._store is not None and self._selected:
            try:
                run = self._store.get_run(self._selected[0])
            except WorkbenchError:
                run = None
        self.actions.update(run, self._live_run if self._live else None, self._live)

    def _context_menu(self, pos: QPoint) -> None:
        self.actions.menu.popup(self.runs.viewport().mapToGlobal(pos))

    def _runs_changed(self) -> None:
        self._selected = []  # a renamed or deleted run: show the selection afresh
        self.refresh()
        self.runsChanged.emit()

    # ---- samples and checkpoints from the curve --------------------------------------------------

    def _pin_changed(self, _run_id: int, _step: int, _pinned: bool) -> None:
        """A checkpoint was pinned or unpinned: redraw the curves, whose marker for it changes."""
        if self._live:
            self.live.show(self._store, self.live_run(), list(self._selected))
        elif self._selected:
            self.show_stored_metrics(self._selected[0])

    def _pinned_from_menu(self, run_id: int, step: int, pinned: bool) -> None:
        self.samples.show_run(self._store, self.samples.run_id())  # its pin button follows
        self._pin_changed(run_id, step, pinned)

    def pick_step(self, step: int) -> bool:
        """A validation point (or sample) at `step` was picked: select its sample and checkpoint."""
        self.side.setCurrentWidget(self.samples)
        return self.samples.select_step(step)

    # ---- live run ------------------------------------------------------------------------------

    def begin_live(self, title: str) -> None:
        self._live = True
        self._live_run = None
        self._live_selected = False
        self._runs_before = {r["id"] for r in self._store.list_runs()} if self._store else set()
        self._overlay = list(self._selected)
        self.runs.clearSelection()  # the next table refresh selects the new run (the newest)
        self.live.begin(self._store, self._overlay)
        self.plot.set_streaming(True)
        self.info.setText(title)
        self._update_actions()
        self._table_timer.start()

    def follow_run(self, run_id: int, from_step: int) -> None:
        """The live job resumes `run_id` from `from_step`: its curves so far come from the store."""
        self._live_run = run_id
        if self._store is not None:
            self.live.follow(self._store, run_id, from_step, self._overlay)
        self.refresh(select_run=run_id)
        self._update_actions()

    def live_run(self) -> int | None:
        """The run the live job trains: the one it resumes, or the first one made since it started
        (a job that is stopped returns no result, yet the info line must name its run)."""
        if self._live_run is None and self._runs_before is not None and self._store is not None:
            new = [r["id"] for r in self._store.list_runs() if r["id"] not in self._runs_before]
            self._live_run = new[0] if new else None
        return self._live_run

    def add_events(self, events: Iterable[Any]) -> None:
        points = live_points(events)
        self.live.add(points)
        if "val_loss" in points:
            self._refresh_table()
            if self._selected and self._selected[0] == self._live_run:
                self.samples.show_run(self._store, self._live_run)  # the evaluation wrote a sample

    def end_live(self, message: str, run_id: int | None = None) -> None:
        """Leave live mode. With the run's id the curves reload from the store (every point the run
        recorded); without one (a run stopped before it reported) the live curves stay."""
        self._table_timer.stop()
        self.plot.set_streaming(False)
        if run_id is None:
            self.refresh()  # still live: the live curves stay
            self._live = False
        else:
            self._live = False
            self._overlay = [k for k in self._selected if k != run_id]  # they stay overlaid
            self._selected = []  # reload the curves from the store even if the run stays selected
            self._live_run = run_id
            self.refresh(select_run=run_id)
        self._live_run, self._runs_before, self._overlay = None, None, []
        self._update_actions()
        self.info.setText(for_window(message))

    def set_job_state(self, running: bool, paused: bool = False) -> None:
        set_available(self.stop_button, running, NOT_RUNNING,
                      "Stop training: a checkpoint is saved so the run can be resumed (Shift+F5)")
        set_available(self.pause_button, running, NOT_RUNNING, "Pause or resume training")
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(running and paused)
        self.pause_button.setText("Resume" if running and paused else "Pause")
        self.pause_button.blockSignals(False)

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)
