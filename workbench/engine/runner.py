"""JobRunner: lanes of generator jobs for the GUI (DESIGN.md section 3).

Lanes and their policies:
  "train"        one at a time. A second request while one runs is *refused*: `start` raises
                 `JobRefusedError` saying which job runs. Queueing a training run silently behind
                 another would start minutes later on settings the user may have changed since;
                 refusing makes them stop or wait for the first, and the GUI disables its buttons.
  "interactive"  the newest request wins: starting one stops the running job (at its next yield)
                 and the new one starts as soon as the old one has closed, so two never run at once.
                 A request still waiting is replaced by a newer one (it ends "stopped", unstarted).
  "background"   no limit; for short housekeeping (warming up imports).

Signals (GUI thread): jobStarted(id, lane, name); jobProgress(id, lane, events: tuple) at most
10 times a second; jobFailed(id, lane, message, details); jobFinished(id, lane, outcome, result)
last, with outcome "finished" | "stopped" | "failed" once the thread has ended.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from workbench.core.base.errors import WorkbenchError
from workbench.engine.worker import STOPPED, GeneratorFactory, GeneratorWorker

LANE_POLICIES = {"train": "exclusive", "interactive": "latest", "background": "parallel"}
_job_ids = itertools.count(1)


class JobRefusedError(WorkbenchError):
    """A lane that runs one job at a time already has one."""


class Job(QObject):
    """A handle on one request: its state, outcome and controls. Lives in the GUI thread."""

    def __init__(self, runner: JobRunner, lane: str, name: str, factory: GeneratorFactory,
                 stop_event: threading.Event | None, pause_event: threading.Event | None, interval_ms: int) -> None:
        super().__init__()
        self.id = next(_job_ids)
        self.lane = lane
        self.name = name or f"{lane}-{self.id}"
        self._runner = runner
        self._factory = factory
        self._stop_event = stop_event
        self._pause_event = pause_event
        self._interval_ms = interval_ms
        self.worker: GeneratorWorker | None = None
        self.state = "pending"  # pending -> running -> finished | stopped | failed

    @property
    def outcome(self) -> str:
        return self.state if self.state not in ("pending", "running") else ""

    @property
    def result(self) -> Any:
        return self.worker.result if self.worker else None

    @property
    def error(self) -> tuple[str, str] | None:
        return self.worker.error if self.worker else None

    @property
    def is_active(self) -> bool:
        return self.state in ("pending", "running")

    @property
    def is_paused(self) -> bool:
        return bool(self.worker and self.worker.is_paused)

    def stop(self) -> None:
        self._runner._stop_job(self)

    def set_paused(self, paused: bool) -> None:
        if self.worker:
            self.worker.set_paused(paused)

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the job's thread has ended (outcome delivered). A pending job just returns."""
        return self.worker.wait(timeout_ms) if self.worker else not self.is_active

    def _launch(self) -> None:
        self.worker = GeneratorWorker(self._factory, name=f"job-{self.id}-{self.name}", interval_ms=self._interval_ms,
                                      stop_event=self._stop_event, pause_event=self._pause_event, parent=self)
        self.worker.yielded.connect(self._on_yielded)
        self.worker.failed.connect(self._on_failed)
        self.worker.finished.connect(self._on_finished)
        self.state = "running"
        self.worker.start()

    @Slot(object)
    def _on_yielded(self, events: tuple) -> None:
        self._runner.jobProgress.emit(self.id, self.lane, events)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._runner.jobFailed.emit(self.id, self.lane, message, details)

    @Slot()
    def _on_finished(self) -> None:
        self.state = self.worker.outcome if self.worker else STOPPED
        self._runner._job_ended(self)


def stop_jobs(jobs: Iterable[Job], wait: bool = True) -> None:
    """Ask each job to stop at its next yield; with `wait`, block until their threads have ended."""
    jobs = list(jobs)
    for job in jobs:
        job.stop()
    if wait:
        for job in jobs:
            job.wait()


class JobRunner(QObject):
    jobStarted = Signal(int, str, str)
    jobProgress = Signal(int, str, object)
    jobFailed = Signal(int, str, str, str)
    jobFinished = Signal(int, str, str, object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = 100) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._running: dict[str, list[Job]] = {lane: [] for lane in LANE_POLICIES}
        self._pending: dict[str, Job | None] = dict.fromkeys(LANE_POLICIES)
        self._ended: list[Job] = []  # kept until control returns to the event loop (see _job_ended)

    # ---- requests ------------------------------------------------------------------------------

    def start(self, lane: str, factory: GeneratorFactory, *, name: str = "",
              stop_event: threading.Event | None = None, pause_event: threading.Event | None = None,
              interval_ms: int | None = None) -> Job:
        """Run `factory()` (called on the job's thread) in `lane`; see the module notes for policies.
        Its events come in batches `interval_ms` apart (default: the runner's `interval_ms`).

        `stop_event` / `pause_event` let the caller share the flags with the core generator it builds
        (the training loop watches both). With a shared `pause_event` the core does the pausing;
        without one the worker holds the generator at its current yield while paused.
        """
        policy = _policy(lane)
        running = self._running[lane]
        if policy == "exclusive" and running:
            raise JobRefusedError(f"{running[0].name!r} is still running; stop it (or wait for it to finish) "
                                  "before starting another")
        job = Job(self, lane, name, factory, stop_event, pause_event, interval_ms or self.interval_ms)
        if policy == "latest" and running:
            self._drop_pending(lane)
            self._pending[lane] = job
            for old in running:
                old.stop()
            return job
        self._launch(job)
        return job

    def stop(self, lane: str) -> None:
        """Stop every job of `lane` (each closes at its next yield); a waiting request is dropped."""
        _policy(lane)
        self._drop_pending(lane)
        for job in list(self._running[lane]):
            job.stop()

    def set_paused(self, lane: str, paused: bool) -> None:
        _policy(lane)
        for job in self._running[lane]:
            job.set_paused(paused)

    def current(self, lane: str) -> Job | None:
        """The newest running job of `lane`, if any."""
        _policy(lane)
        running = self._running[lane]
        return running[-1] if running else None

    def jobs(self, lane: str | None = None) -> list[Job]:
        """The jobs running or waiting to start (of `lane`, default every lane)."""
        lanes = [lane] if lane else list(LANE_POLICIES)
        return [job for name in lanes
                for job in (*self._running[name], *((self._pending[name],) if self._pending[name] else ()))]

    def is_busy(self, lane: str | None = None) -> bool:
        lanes = [lane] if lane else list(LANE_POLICIES)
        return any(self._running[name] or self._pending[name] for name in lanes)

    def stop_all(self, wait: bool = True, timeout_ms: int | None = None, lanes: tuple[str, ...] | None = None) -> bool:
        """Stop every job (of `lanes`, default all); with `wait`, block until their threads have ended.

        True when they all ended."""
        lanes = tuple(LANE_POLICIES) if lanes is None else lanes
        for lane in lanes:
            self.stop(lane)
        if wait:
            for lane in lanes:
                for job in list(self._running[lane]):
                    job.wait(timeout_ms)
        return not any(self._running[lane] for lane in lanes)

    @Slot()
    def shutdown(self) -> None:
        """Stop everything and wait (connected to QCoreApplication.aboutToQuit as a last resort)."""
        self.stop_all(wait=True)

    # ---- bookkeeping ---------------------------------------------------------------------------

    def _launch(self, job: Job) -> None:
        self._running[job.lane].append(job)
        job._launch()
        self.jobStarted.emit(job.id, job.lane, job.name)

    def _stop_job(self, job: Job) -> None:
        if self._pending[job.lane] is job:
            self._drop_pending(job.lane)
        elif job.worker is not None:
            job.worker.stop()

    def _drop_pending(self, lane: str) -> None:
        job = self._pending[lane]
        if job is not None:
            self._pending[lane] = None
            job.state = STOPPED
            self.jobFinished.emit(job.id, lane, STOPPED, None)

    def _job_ended(self, job: Job) -> None:
        running = self._running[job.lane]
        if job in running:
            running.remove(job)
        # The worker is still inside its `finished` emission: keep the job alive until the event
        # loop runs again, so no Qt object is deleted while it is on the call stack.
        self._ended.append(job)
        QTimer.singleShot(0, self._forget_ended)
        self.jobFinished.emit(job.id, job.lane, job.state, job.result)
        pending = self._pending[job.lane]
        if pending is not None and not running:
            self._pending[job.lane] = None
            self._launch(pending)

    @Slot()
    def _forget_ended(self) -> None:
        self._ended.clear()


def _policy(lane: str) -> str:
    try:
        return LANE_POLICIES[lane]
    except KeyError:
        raise ValueError(f"unknown job lane {lane!r}; use one of {', '.join(LANE_POLICIES)}") from None
