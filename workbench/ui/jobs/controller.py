"""Connects the panels' requests to jobs on the JobRunner, and the jobs' events back to the panels.

This is the main window's half that deals with jobs (kept apart so each file stays readable):
training ("train" lane), generation and attention ("interactive" lane: the newest request wins;
the attention panel's jobs in `attention_controller.py`)
and the warm-up import of torch ("background" lane). The `run_*` methods take any generator
factory, which is how tests drive the window with plain Python generators.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMainWindow

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import (
    CheckpointSaved,
    Notice,
    Progress,
    RunFinished,
    RunStatusChanged,
    StepLogged,
)
from workbench.engine.runner import Job, JobRunner, stop_jobs
from workbench.ui import errors
from workbench.ui.jobs import backends
from workbench.ui.jobs.attention_controller import KINDS as ATTENTION_KINDS
from workbench.ui.jobs.attention_controller import AttentionJobs
from workbench.ui.jobs.estimates import ModelEstimator
from workbench.ui.jobs.job_messages import event_message, stored_ending, training_ended
from workbench.ui.jobs.panels import Panels
from workbench.ui.status_bar import WorkbenchStatusBar
from workbench.ui.warmup import describe_device, warm_up

Factory = Callable[[], Iterator[Any]]
# A training job's events reach the window in batches this far apart: the curves redraw once a
# second and the status bar twice, and each batch costs the GUI thread Python time, which holds
# the GIL the training thread needs (at 10 Hz the batches were a sixth of the window's Python time).
TRAINING_EVENTS_MS = 250


class JobController(QObject):
    enginesChanged = Signal(object)  # {engine key: "" when usable, else why not}

    def __init__(self, window: QMainWindow, runner: JobRunner, panels: Panels, status: WorkbenchStatusBar) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.panels = panels
        self.status = status
        self.device = describe_device()
        self.engines: dict[str, str] = {}  # filled by the warm-up job once it has loaded each engine
        self._kinds: dict[int, str] = {}  # job id -> "train" | "generate" | "attention" | "import" | ...
        self._shown_generation = 0
        self._training_reported = False  # the running training job has reported a step
        self._training_status = ""  # the last run status the training job reported ("paused", ...)
        self._used: dict[int, backends.CheckpointUsed] = {}  # job id -> the step it loaded (until it ends)
        runner.jobProgress.connect(self._on_progress)
        runner.jobFailed.connect(self._on_failed)
        runner.jobFinished.connect(self._on_finished)
        panels.model.trainingRequested.connect(self.start_training)
        self.estimator = ModelEstimator(runner, self)  # the model panel's checks, estimates and timing
        panels.model.estimateRequested.connect(self.estimator.request)
        self.estimator.estimated.connect(panels.model.show_estimate)
        self.estimator.probed.connect(panels.model.show_probe)
        panels.training.pauseToggled.connect(self.set_training_paused)
        panels.training.stopRequested.connect(self.stop_training)
        panels.playground.generateRequested.connect(self.start_generation)
        panels.playground.stopRequested.connect(self.stop_generation)
        self.attention = AttentionJobs(self._start, lambda: self.store, panels.attention, status, self)  # map, scores
        status.set_device(self.device)

    @property
    def store(self) -> Any:
        return getattr(self.window, "store", None)

    # ---- engines -------------------------------------------------------------------------------

    def apply_engine_status(self, reasons: dict[str, str]) -> None:
        """`reasons`: engine key -> "" when usable, else why not (shown as the buttons' tooltips)."""
        self.engines.update(reasons)
        if "import" in reasons:
            self.panels.dataset.set_import_available(not reasons["import"], reasons["import"])
        if "training" in reasons:
            self.panels.model.set_training_available(not reasons["training"], reasons["training"])
        if "generation" in reasons:
            self.panels.playground.set_generation_available(not reasons["generation"], reasons["generation"])
        if "attention" in reasons:
            self.panels.attention.set_attention_available(not reasons["attention"], reasons["attention"])
        self.enginesChanged.emit(dict(self.engines))

    def start_warm_up(self) -> Job:
        return self._start("warm-up", "background", warm_up, "warm-up")

    # ---- training ------------------------------------------------------------------------------

    @Slot(str, str, object, object)
    def start_training(self, dataset: str, tokenizer: str, model_spec: Any, train_spec: Any) -> Job | None:
        if self.store is None:
            errors.show_error(self.window, "Open or create a project before training.")
            return None
        pause = threading.Event()  # shared with the training loop, which pauses between steps itself
        factory = functools.partial(backends.training_job, self.store, dataset, tokenizer, model_spec, train_spec, pause)
        return self.run_training(factory, f"Training {model_spec.arch} on {dataset}", train_spec.max_steps,
                                 pause_event=pause)

    def run_training(self, factory: Factory, title: str, total_steps: int | None = None, *,
                     stop_event: threading.Event | None = None, pause_event: threading.Event | None = None) -> Job | None:
        """Start a training job from any generator factory; None (with a dialog) when refused."""
        job = self._start("train", "train", factory, title, stop_event=stop_event, pause_event=pause_event,
                          interval_ms=TRAINING_EVENTS_MS)
        if job is None:
            return None
        self._training_reported, self._training_status = False, ""
        self.panels.training.begin_live(title)
        self.panels.training.set_job_state(running=True)
        self.panels.model.set_training_running(True)
        self.status.begin_progress(title, total_steps)
        return job

    @Slot(bool)
    def set_training_paused(self, paused: bool) -> None:
        self.runner.set_paused("train", paused)
        self.panels.training.set_job_state(running=self.runner.is_busy("train"), paused=paused)
        self.status.set_paused(paused)
        self.status.showMessage("Training paused." if paused else "Training resumed.", 4000)

    @Slot()
    def stop_training(self) -> None:
        if self.runner.is_busy("train"):
            self.status.showMessage("Stopping training after the current step…")
            self.runner.stop("train")

    # ---- generation (the attention panel's jobs: `attention_controller.py`) ----------------------

    @Slot(str, str, str, object)
    def start_generation(self, run: str, checkpoint: str, prompt: str, spec: Any) -> Job | None:
        if self.store is None:
            return None
        continuation = self.panels.playground.branches.continuation(prompt)  # a branch: its exact tokens
        return self.run_generation(functools.partial(backends.generation_job, self.store, run, checkpoint, prompt, spec,
                                                     continuation), prompt)

    def run_generation(self, factory: Factory, prompt: str = "") -> Job | None:
        job = self._start("generate", "interactive", factory, "generation")
        if job is not None:
            self._shown_generation = job.id  # what an older job still delivers is not shown
            self.panels.playground.begin_output(prompt)
            self.panels.playground.set_generating(True)
        return job

    @Slot()
    def stop_generation(self) -> None:
        """Stop the generation, not an attention job that shares its lane."""
        self.stop_kinds({"generate"}, wait=False)

    # ---- importing and exporting ---------------------------------------------------------------

    def export_run(self, run: str, out: str | Path) -> Job | None:
        if self.store is None:
            return None
        return self._start("export", "background", functools.partial(backends.export_job, self.store, run, out),
                           f"export {run}")

    # ---- the runner's signals ------------------------------------------------------------------

    def _start(self, kind: str, lane: str, factory: Factory, name: str, **events: Any) -> Job | None:
        try:
            job = self.runner.start(lane, factory, name=name, **events)
        except WorkbenchError as exc:
            errors.show_error(self.window, str(exc))
            return None
        self._kinds[job.id] = kind
        return job

    def active_kinds(self) -> set[str]:
        """The kinds of the jobs still running or waiting ("train", "generate", "export", ...)."""
        return set(self._kinds.values())

    def stop_kinds(self, kinds: set[str], wait: bool = True) -> None:
        """Stop the running jobs of these kinds; with `wait`, until their threads have ended."""
        stop_jobs((job for job in self.runner.jobs() if self._kinds.get(job.id) in kinds), wait)

    @Slot(int, str, object)
    def _on_progress(self, job_id: int, lane: str, events: tuple) -> None:
        kind = self._kinds.get(job_id)
        for used in (e for e in events if isinstance(e, backends.CheckpointUsed)):
            if kind == "generate" and job_id == self._shown_generation:
                self.panels.playground.show_checkpoint_used(used.run, used.step)
            self._used[job_id] = used  # an attention map is shown when its job ends
        events = tuple(e for e in events if not isinstance(e, backends.CheckpointUsed))
        if kind == "train":
            self._training_progress(events)
        elif kind == "generate":
            if job_id == self._shown_generation:
                self.panels.playground.add_events(events)
        elif kind == "warm-up":
            notices = [e.message for e in events if isinstance(e, Notice)]
            if notices:
                self.status.set_loading(notices[-1])
        elif events:
            self._show_event(events[-1])

    def _show_event(self, event: Any) -> None:
        if isinstance(event, (Notice, Progress)):
            self.status.showMessage(event_message(event), 8000)

    def _training_progress(self, events: tuple) -> None:
        self.panels.training.add_events(events)
        paused_or_resumed = self._status_changed(events)
        steps = [e.step for e in events if isinstance(e, StepLogged)]
        if steps:
            self.status.update_progress(steps[-1])
        if steps and not self._training_reported:
            # the job may have made the run's dataset and tokenizer (the demo does): show them now
            self._training_reported = True
            self.refresh_panels(training=False)
        elif paused_or_resumed or any(isinstance(e, CheckpointSaved) for e in events):
            self.refresh_choosers()  # the run can be tried while it trains, and live while paused
        for event in events:
            if isinstance(event, (Notice, Progress)):
                self._show_event(event)
            elif isinstance(event, CheckpointSaved):
                self.status.showMessage(f"Checkpoint saved at step {event.step}.", 4000)
            elif isinstance(event, RunStatusChanged):
                self.panels.training.set_job_state(running=True, paused=event.status == "paused")

    def _status_changed(self, events: tuple) -> bool:
        """The run was paused or resumed (a paused loop repeats its status while it waits)."""
        statuses = [e.status for e in events if isinstance(e, RunStatusChanged)]
        changed = bool(statuses) and statuses[-1] != self._training_status
        self._training_status = statuses[-1] if statuses else self._training_status
        return changed

    def refresh_choosers(self) -> None:
        """The Playground's and Attention's run and checkpoint choosers: a checkpoint was saved, or
        a run paused or resumed."""
        self.panels.playground.refresh()
        self.panels.attention.refresh()

    @Slot(int, str, str, str)
    def _on_failed(self, job_id: int, lane: str, message: str, details: str) -> None:
        kind = self._kinds.get(job_id, lane)
        if kind == "warm-up":
            self.status.set_loading("")
        errors.show_error(self.window, message, details, logged=True)  # the worker logged it

    @Slot(int, str, str, object)
    def _on_finished(self, job_id: int, lane: str, outcome: str, result: object) -> None:
        kind = self._kinds.pop(job_id, None)
        used = self._used.pop(job_id, None)
        if describe_device() != self.device:  # a job loaded torch: the device is known now
            self.device = describe_device()
            self.status.set_device(self.device)
        if kind == "train":
            self._training_finished(outcome, result)
        elif kind == "generate":
            # not is_busy("interactive"): an attention job that replaced this one shares the lane
            self.panels.playground.set_generating("generate" in self._kinds.values())
            if job_id == self._shown_generation:
                self.panels.playground.finish_output(outcome)
            if outcome == "stopped":
                self.status.showMessage("Generation stopped.", 4000)
        elif kind in ATTENTION_KINDS:
            self.attention.finished(kind, outcome, result, used)
        elif kind == "import" and outcome == "finished":
            self.status.showMessage(f"Imported dataset {result['name']!r}.", 8000)
            self.refresh_panels()
        elif kind == "export" and outcome == "finished":
            self.status.showMessage(f"Exported {result['name']!r} (step {result['step']}) to {result['out']}.", 8000)
        elif kind == "warm-up" and outcome == "finished" and isinstance(result, dict):
            self.status.set_loading("")
            self.apply_engine_status(result.get("engines", {}))
            self.status.showMessage("Ready.", 3000)

    def _training_finished(self, outcome: str, result: object) -> None:
        if outcome == "stopped" and not isinstance(result, RunFinished):
            result = stored_ending(self.store, self.panels.training.live_run())  # a closed job returns nothing
        run_id = result.run_id if isinstance(result, RunFinished) else None
        message = training_ended(self.store, outcome, result)
        self.status.clear_progress()
        self.status.showMessage(message, 8000)
        self.panels.training.set_job_state(running=False)
        self.panels.model.set_training_running(False)
        self.panels.training.end_live(message, run_id)
        self.refresh_panels(training=False)
        if isinstance(result, RunFinished) and result.status == "failed":  # e.g. the loss became NaN
            errors.show_error(self.window, result.message or message)

    def refresh_panels(self, training: bool = True) -> None:
        for panel in self.panels.all():
            if training or panel is not self.panels.training:
                panel.refresh()
