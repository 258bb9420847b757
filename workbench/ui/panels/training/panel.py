"""The training panel: the project's runs, the loss curves of the selected one, pause and stop.

While a run trains in this window the curves follow it live: `add_events` takes the batches of
`StepLogged` / `EvalFinished` events the job runner delivers (at most 10 a second) and appends
them. Otherwise the curves show the metrics stored for the selected run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from workbench.core.base.events import EvalFinished, StepLogged
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.curves import LossPlot
from workbench.ui.widgets.forms import plain_label, section_title, set_available
from workbench.ui.widgets.record_table import RecordTable
from workbench.ui.widgets.scrolling import scroll_area
from workbench.ui.wording import for_window

NOT_RUNNING = "No training run is in progress in this window."
TABLE_REFRESH_MS = 2000


class TrainingPanel(QWidget):
    """objectName `trainingPanel`. Emits `pauseToggled(bool)` and `stopRequested()`."""

    pauseToggled = Signal(bool)
    stopRequested = Signal()
    runSelected = Signal(object)  # run id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self._store: ProjectStore | None = None
        self._live = False
        self._live_run: int | None = None  # the run the live job trains, once known
        self._runs_before: set[int] | None = None  # the runs there were when it started
        self.runs = RecordTable(("Name", "Status", "Step", "Best val loss", "Model", "Created"),
                                "No runs yet. Set up a model and press Start Training.")
        self.runs.setObjectName("runTable")
        self.plot = LossPlot()
        self.info = plain_label("")
        self.info.setObjectName("runInfo")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseTrainingButton")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopTrainingButton")
        self.stop_button.clicked.connect(self.stopRequested)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(section_title("Runs"))
        top_layout.addWidget(self.runs)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.plot)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.info, 1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll_area(split), 1)  # a short dock scrolls: the window must fit a laptop screen
        layout.addLayout(buttons)

        self._table_timer = QTimer(self)
        self._table_timer.setInterval(TABLE_REFRESH_MS)
        self._table_timer.timeout.connect(self._refresh_table)
        self.runs.keySelected.connect(self._run_selected)
        self.set_job_state(running=False)

    # ---- project -------------------------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.plot.clear_data()
        self.info.setText("")
        self.refresh()

    def refresh(self, select_run: int | None = None) -> None:
        """Reload the runs; select `select_run` (or keep the selection, or take the newest)."""
        runs = self._store.list_runs() if self._store else []
        if select_run is None and self._live:
            select_run = self.live_run()
        keep = select_run if select_run is not None else self.runs.selected_key()
        if keep is None and runs:
            keep = runs[-1]["id"]
        self.runs.set_records([(r["id"], _run_cells(r)) for r in runs], select=keep)

    def _refresh_table(self) -> None:
        self.refresh()

    def selected_run(self) -> int | None:
        return self.runs.selected_key()

    def _run_selected(self, run_id: Any) -> None:
        self.runSelected.emit(run_id)
        if self._live:
            return  # the curves follow the live run; the table still shows the others
        self.show_stored_metrics(run_id)

    def show_stored_metrics(self, run_id: int | None) -> None:
        self.plot.clear_data()
        if self._store is None or run_id is None:
            self.info.setText("")
            return
        for name in ("loss", "val_loss"):
            rows = self._store.metrics(run_id, name)
            self.plot.set_series(name, [r["step"] for r in rows], [r["value"] for r in rows])
        run = self._store.get_run(run_id)
        self.info.setText(for_window(run["message"]) if run["message"] else f"{run['name']}: {run['status']} at step {run['step']}")

    # ---- live run ------------------------------------------------------------------------------

    def begin_live(self, title: str) -> None:
        self._live = True
        self._live_run = None
        self._runs_before = {r["id"] for r in self._store.list_runs()} if self._store else set()
        self.runs.clearSelection()  # the next table refresh selects the new run (the newest)
        self.plot.clear_data()
        self.info.setText(title)
        self._table_timer.start()

    def follow_run(self, run_id: int, from_step: int) -> None:
        """The live job resumes `run_id` from `from_step`: its curves so far come from the store."""
        self._live_run = run_id
        if self._store is not None:
            for name in ("loss", "val_loss"):
                rows = [r for r in self._store.metrics(run_id, name) if r["step"] <= from_step]
                self.plot.set_series(name, [r["step"] for r in rows], [r["value"] for r in rows])
        self.refresh(select_run=run_id)

    def live_run(self) -> int | None:
        """The run the live job trains: the one it resumes, or the first one made since it started
        (a job that is stopped returns no result, yet the info line must name its run)."""
        if self._live_run is None and self._runs_before is not None and self._store is not None:
            new = [r["id"] for r in self._store.list_runs() if r["id"] not in self._runs_before]
            self._live_run = new[0] if new else None
        return self._live_run

    def add_events(self, events: Iterable[Any]) -> None:
        steps, losses, val_steps, val_losses = [], [], [], []
        for event in events:
            if isinstance(event, StepLogged):
                steps.append(event.step)
                losses.append(event.loss)
            elif isinstance(event, EvalFinished):
                val_steps.append(event.step)
                val_losses.append(event.val_loss)
        if steps:
            self.plot.append("loss", steps, losses)
        if val_steps:
            self.plot.append("val_loss", val_steps, val_losses)
            self._refresh_table()

    def end_live(self, message: str, run_id: int | None = None) -> None:
        """Leave live mode. With the run's id the curves reload from the store (every point the run
        recorded); without one (a run stopped before it reported) the live curves stay."""
        self._table_timer.stop()
        if run_id is None:
            self.refresh()
            self._live = False
        else:
            self._live = False
            self.refresh(select_run=run_id)
        self._live_run, self._runs_before = None, None
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


def _run_cells(run: dict[str, Any]) -> tuple:
    spec = run.get("model_spec") or {}
    shape = f"{run['arch']} {spec.get('n_layer', '?')}×{spec.get('n_embd', '?')}" if isinstance(spec, dict) else run["arch"]
    best = run["best_val_loss"]
    return (run["name"], run["status"], run["step"], round(best, 4) if best is not None else "-", shape,
            (run["created"] or "")[:16].replace("T", " "))
