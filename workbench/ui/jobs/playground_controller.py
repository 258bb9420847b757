"""Connects the playground's side-by-side, fill-mask and surprise views to their jobs.

Kept apart from `controller.py` (which runs plain generation): these jobs run in the "interactive"
lane too (the newest request stops the older one), and this object follows only the jobs it started,
by id. Refusals come back as `Refused` results and are shown in the view as plain text; an
unexpected failure gets the window's error dialog from `JobController`, like every job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.core.base.errors import WorkbenchError
from workbench.engine.runner import Job, JobRunner
from workbench.ui import errors
from workbench.ui.jobs import playground_jobs as jobs
from workbench.ui.jobs.backends import CheckpointUsed
from workbench.ui.panels.playground.panel import PlaygroundPanel

LANE = "interactive"


class PlaygroundJobs(QObject):
    def __init__(self, window: Any, runner: JobRunner, panel: PlaygroundPanel) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.panel = panel
        self._kinds: dict[int, str] = {}  # job id -> "side-by-side" | "fill-mask" | "surprise", while it runs
        self._shown: dict[str, int] = {}  # kind -> the job whose results the view shows
        runner.jobProgress.connect(self._on_progress)
        runner.jobFinished.connect(self._on_finished)
        panel.side_by_side.compareRequested.connect(self.start_side_by_side)
        panel.side_by_side.stopRequested.connect(self.stop_side_by_side)
        panel.fill_mask.fillRequested.connect(self.start_fill_mask)
        panel.surprise.scoreRequested.connect(self.start_surprise)

    @property
    def store(self) -> Any:
        return getattr(self.window, "store", None)

    def _start(self, kind: str, factory: Callable[[], Any], name: str) -> Job | None:
        try:
            job = self.runner.start(LANE, factory, name=name)
        except WorkbenchError as exc:
            errors.show_error(self.window, str(exc))
            return None
        self._kinds[job.id] = kind
        self._shown[kind] = job.id
        return job

    # ---- requests ------------------------------------------------------------------------------

    @Slot(object, str, object)
    def start_side_by_side(self, columns: list[tuple[str, str]], prompt: str, spec: Any) -> Job | None:
        if self.store is None:
            return None
        job = self._start("side-by-side", functools.partial(jobs.side_by_side_job, self.store, columns, prompt, spec),
                          "side by side")
        if job is not None:
            self.panel.side_by_side.begin(prompt, spec)
            self.panel.side_by_side.set_running(True)
        return job

    @Slot()
    def stop_side_by_side(self) -> None:
        for job in self.runner.jobs():
            if self._kinds.get(job.id) == "side-by-side":
                job.stop()

    @Slot(str, str, str)
    def start_fill_mask(self, run: str, checkpoint: str, text: str) -> Job | None:
        if self.store is None:
            return None
        job = self._start("fill-mask", functools.partial(jobs.fill_mask_job, self.store, run, checkpoint, text),
                          "fill-mask")
        if job is not None:
            self.panel.fill_mask.begin()
            self.panel.show_view(self.panel.fill_mask)
        return job

    @Slot(str, str, object, int, int)
    def start_surprise(self, run: str, checkpoint: str, text: object, start: int, count: int) -> Job | None:
        if self.store is None:
            return None
        factory = functools.partial(jobs.surprise_job, self.store, run, checkpoint,
                                    text if isinstance(text, str) else None, start, count)
        job = self._start("surprise", factory, "surprise")
        if job is not None:
            self.panel.surprise.set_busy(True)
        return job

    # ---- the runner's signals ------------------------------------------------------------------

    @Slot(int, str, object)
    def _on_progress(self, job_id: int, lane: str, events: tuple) -> None:
        kind = self._kinds.get(job_id)
        if kind is None or self._shown.get(kind) != job_id:
            return
        if kind == "side-by-side":
            self._side_by_side_events(events)
        for used in (e for e in events if isinstance(e, CheckpointUsed)):
            self.panel.show_checkpoint_used(used.run, used.step)

    def _side_by_side_events(self, events: tuple) -> None:
        view = self.panel.side_by_side
        pieces: list[tuple[int, str]] = []
        for event in events:
            if isinstance(event, jobs.ColumnToken):
                pieces.append((event.column, event.text))
                continue
            view.add_pieces(pieces)  # in order: a column's end comes after its tokens
            pieces = []
            if isinstance(event, jobs.ColumnStarted):
                view.column_started(event.column, event.run, event.step)
            elif isinstance(event, jobs.ColumnEnded):
                view.column_ended(event.column, event.tokens, event.reason)
        view.add_pieces(pieces)

    @Slot(int, str, str, object)
    def _on_finished(self, job_id: int, lane: str, outcome: str, result: object) -> None:
        kind = self._kinds.pop(job_id, None)
        if kind is None:
            return
        shown = self._shown.get(kind) == job_id
        if kind == "side-by-side":
            self.panel.side_by_side.set_running("side-by-side" in self._kinds.values())
            if shown:
                self.panel.side_by_side.finish(outcome, result)
        elif kind == "fill-mask" and shown:
            self._fill_mask_finished(outcome, result)
        elif kind == "surprise":
            self.panel.surprise.set_busy("surprise" in self._kinds.values())
            if shown:
                self._surprise_finished(outcome, result)

    def _fill_mask_finished(self, outcome: str, result: object) -> None:
        view = self.panel.fill_mask
        if isinstance(result, jobs.FillMaskResult):
            view.show_candidates(result.text, result.candidates, result.run, result.step)
        elif isinstance(result, jobs.Refused):
            view.show_refusal(result.reason)
        else:
            view.show_refusal("Stopped." if outcome == "stopped" else "Fill-mask failed: see the message.")

    def _surprise_finished(self, outcome: str, result: object) -> None:
        view = self.panel.surprise
        if isinstance(result, jobs.SurpriseResult):
            where = (f"validation tokens {result.first:,} to {result.first + len(result.token_ids):,} of "
                     f"{result.total:,}" if result.source == "validation" else "the text")
            view.show_scores(result.token_texts, result.losses, result.perplexity, result.vocab_size,
                             f"{where}, run {result.run}, step {result.step}.")
        elif isinstance(result, jobs.Refused):
            view.show_refusal(result.reason)
        else:
            view.show_refusal("Stopped." if outcome == "stopped" else "Scoring failed: see the message.")
