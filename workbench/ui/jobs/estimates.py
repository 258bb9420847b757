"""Runs the model panel's estimates and timing probes as background jobs, newest request first.

At most one estimate job runs; a request made meanwhile waits, and a newer one replaces it (the
estimate of a spec the user has already changed is not worth computing). Once the newest request
has an estimate that fits in memory, a timing probe follows after a short pause, unless training
runs (it would slow the run and measure nothing useful); a started run stops a probe. Probe results
are kept per spec, so going back to an earlier setting shows its time at once.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from workbench.engine.runner import Job, JobRunner
from workbench.ui.jobs.model import (
    EstimateRequest,
    EstimateResult,
    ProbeResult,
    estimate_job,
    probe_job,
    probe_key,
)

TRAIN_LANE, LANE = "train", "background"
BUSY_TRAINING = "measured when no training is running"


class ModelEstimator(QObject):
    estimated = Signal(object)  # EstimateResult
    probed = Signal(object)  # ProbeResult

    def __init__(self, runner: JobRunner, parent: QObject | None = None, probe_delay_ms: int = 700) -> None:
        super().__init__(parent)
        self.runner = runner
        self._latest: EstimateRequest | None = None
        self._waiting: EstimateRequest | None = None
        self._estimate_job: Job | None = None
        self._probe_job: Job | None = None
        self._probe_cache: dict[tuple, ProbeResult] = {}
        self._probe_ready: EstimateResult | None = None  # the newest estimate, waiting for its probe
        self._probing: EstimateResult | None = None  # the estimate the running probe times
        self._probe_timer = QTimer(self)
        self._probe_timer.setSingleShot(True)
        self._probe_timer.setInterval(probe_delay_ms)
        self._probe_timer.timeout.connect(self._start_probe)
        runner.jobStarted.connect(self._on_job_started)
        runner.jobFinished.connect(self._on_job_finished)

    @Slot(object)
    def request(self, request: EstimateRequest | None) -> None:
        """Estimate `request` (then time it); older requests are dropped or their results ignored.
        None: nothing to estimate now (invalid settings, no project): waiting work is dropped."""
        self._latest = request
        self._probe_ready = None
        self._probe_timer.stop()
        if self._probe_job is not None and self._probe_job.is_active and (
                request is None or self._probe_job.name != _name(request)):
            self._probe_job.stop()  # timing a spec the user has left
        if request is None:
            self._waiting = None
            return
        if self._estimate_job is not None and self._estimate_job.is_active:
            self._waiting = request
            return
        self._estimate_job = self.runner.start(LANE, functools.partial(estimate_job, request), name="model estimate")

    def is_busy(self) -> bool:
        return any(job is not None and job.is_active for job in (self._estimate_job, self._probe_job))

    # ---- jobs ending ---------------------------------------------------------------------------

    @Slot(int, str, str)
    def _on_job_started(self, job_id: int, lane: str, name: str) -> None:
        if lane != TRAIN_LANE:
            return
        self._probe_timer.stop()
        if self._probe_job is not None and self._probe_job.is_active:
            self._probe_job.stop()
            if self._probing is not None and self._probing.request == self._latest:
                self._probe_ready = self._probing  # timed again once training is over
        if self._probe_ready is not None:
            self.probed.emit(ProbeResult(probe_key(self._probe_ready.request), problem=BUSY_TRAINING))

    @Slot(int, str, str, object)
    def _on_job_finished(self, job_id: int, lane: str, outcome: str, result: object) -> None:
        if self._estimate_job is not None and job_id == self._estimate_job.id:
            self._estimate_job = None
            if outcome != "finished":  # stopped by the window (closing): start nothing new
                self._waiting = self._probe_ready = None
                return
            if isinstance(result, EstimateResult):
                self.estimated.emit(result)
                if result.request == self._latest:
                    self._probe_ready = result
            if self._waiting is not None:
                # From the event loop, not from here: this may run inside the window's stop_all(wait=True)
                # while it closes, and the close then drops the waiting request (request(None)).
                QTimer.singleShot(0, self._start_waiting)
            elif self._probe_ready is not None:
                self._schedule_probe()
        elif self._probe_job is not None and job_id == self._probe_job.id:
            self._probe_job = None
            if isinstance(result, ProbeResult):
                if result.seconds_per_step is not None:
                    self._probe_cache[result.key] = result
                self.probed.emit(result)
        elif lane == TRAIN_LANE and self._probe_ready is not None:
            self._schedule_probe()  # training is over: the waiting spec can be timed now

    @Slot()
    def _start_waiting(self) -> None:
        waiting = self._waiting
        if waiting is not None and not (self._estimate_job is not None and self._estimate_job.is_active):
            self._waiting = None
            self.request(waiting)

    def _schedule_probe(self) -> None:
        ready = self._probe_ready
        if ready is None or ready.estimate is None or ready.model is None or ready.problems:
            return
        key = probe_key(ready.request)
        if key in self._probe_cache:
            self._probe_ready = None
            self.probed.emit(self._probe_cache[key])
        elif ready.estimate.get("fits") is False:
            self._probe_ready = None
            self.probed.emit(ProbeResult(key, problem="not measured: the run would not fit in memory"))
        elif self.runner.is_busy(TRAIN_LANE):
            self.probed.emit(ProbeResult(key, problem=BUSY_TRAINING))
        else:
            self._probe_timer.start()

    @Slot()
    def _start_probe(self) -> None:
        ready = self._probe_ready
        if ready is None or ready.request != self._latest or self.runner.is_busy(TRAIN_LANE):
            return
        if self._probe_job is not None and self._probe_job.is_active:
            self._probe_timer.start()  # the old probe closes at its next yield; try again shortly
            return
        cached = self._probe_cache.get(probe_key(ready.request))
        self._probe_ready = None
        if cached is not None:  # the probe that just ended timed this very step
            self.probed.emit(cached)
            return
        self._probing = ready
        factory = functools.partial(probe_job, ready.request, ready.model, float(ready.estimate["flops_per_token"]))
        self._probe_job = self.runner.start(LANE, factory, name=_name(ready.request))


def _name(request: EstimateRequest) -> str:
    return f"model timing {hash(probe_key(request)):x}"
