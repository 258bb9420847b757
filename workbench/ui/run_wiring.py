"""The main window's wiring of the training panel's run actions to the rest of the window.

Panels never import each other: the training panel asks (resume a run, clone its settings, open a
checkpoint in the Playground or the Attention panel) and this object, made by the main window,
does it with the other panels' public methods and the job controller.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QComboBox, QDockWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.specs import ModelSpec, TrainSpec, spec_from_dict
from workbench.ui.jobs import backends
from workbench.ui.jobs.controller import JobController
from workbench.ui.jobs.panels import Panels
from workbench.ui.widgets.spec_form import select_data


class RunWiring(QObject):
    def __init__(self, window: Any, jobs: JobController, panels: Panels, docks: dict[str, QDockWidget]) -> None:
        super().__init__(window)
        self.window, self.jobs, self.panels, self.docks = window, jobs, panels, docks
        training = panels.training
        training.resumeRequested.connect(self.resume_run)
        training.cloneRequested.connect(self.clone_run)
        training.openRequested.connect(self.open_checkpoint)
        training.runsChanged.connect(self._runs_changed)

    def _run(self, run_id: int) -> dict[str, Any] | None:
        store = self.window.store
        if store is None:
            return None
        try:
            return store.get_run(run_id)
        except WorkbenchError as exc:  # deleted meanwhile (another window)
            self.window.status.showMessage(str(exc), 8000)
            return None

    @Slot(int, int)
    def resume_run(self, run_id: int, max_steps: int) -> bool:
        """Train the run on from its last checkpoint up to `max_steps`, its curves followed live."""
        run = self._run(run_id)
        if run is None:
            return False
        store = self.window.store
        pause = threading.Event()
        factory = functools.partial(backends.resume_job, store, run_id, max_steps, pause)
        job = self.jobs.run_training(factory, f"Resuming {run['name']}", max_steps, pause_event=pause)
        if job is None:
            return False
        from_step = max((row["step"] for row in store.list_checkpoints(run_id)), default=0)
        self.panels.training.follow_run(run_id, from_step)
        return True

    @Slot(int)
    def clone_run(self, run_id: int) -> bool:
        """Put the run's dataset, tokenizer and settings into the Model panel's form."""
        run = self._run(run_id)
        if run is None:
            return False
        store, model = self.window.store, self.panels.model
        for combo, table, key in ((model.dataset, "datasets", "dataset_id"), (model.tokenizer, "tokenizers", "tokenizer_id")):
            rows = store.query(f"SELECT name FROM {table} WHERE id = ?", (run[key],)) if run[key] is not None else []
            if rows:
                select_data(combo, rows[0]["name"])
        model_spec = spec_from_dict(ModelSpec, run["model_spec"] if isinstance(run["model_spec"], dict) else {})
        train_spec = spec_from_dict(TrainSpec, run["train_spec"] if isinstance(run["train_spec"], dict) else {})
        model.set_specs(model_spec, train_spec)
        self.docks["model"].raise_()
        self.window.status.showMessage(f"The settings of {run['name']} are in the Model panel.", 6000)
        return True

    @Slot(str, int, int)
    def open_checkpoint(self, target: str, run_id: int, step: int) -> bool:
        """Show the run's checkpoint of `step` in the Playground ("playground") or Attention panel."""
        run = self._run(run_id)
        if run is None:
            return False
        if target == "playground":
            playground = self.panels.playground
            playground.refresh()
            if not playground.select_run(run["name"]):
                self.window.status.showMessage(f"{run['name']} has no checkpoint to generate with yet.", 8000)
                return False
            _select_or_add(playground.checkpoint, str(step), f"Step {step}")
        elif not self.panels.attention.select_checkpoint(run["name"], step):  # its snapshot too, if saved
            return False
        self.docks[target].show()
        self.docks[target].raise_()
        self.window.status.showMessage(f"{run['name']} at step {step} is open in the {target.title()} panel.", 6000)
        return True

    @Slot()
    def _runs_changed(self) -> None:
        self.jobs.refresh_panels(training=False)


def _select_or_add(combo: QComboBox, key: str, label: str) -> None:
    if not select_data(combo, key):
        combo.addItem(label, key)
        combo.setCurrentIndex(combo.count() - 1)
