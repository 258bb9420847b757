"""JobRunner lanes: train refuses a second job, interactive lets the newest win, stop_all waits."""

from __future__ import annotations

import functools
import logging
import threading

import pytest
from engine.jobs import Probe, counting, failing, user_error

from workbench.engine.runner import JobRefusedError, JobRunner

pytestmark = pytest.mark.qt_log_level_fail("WARNING")


class Log:
    """Every runner signal, in order."""

    def __init__(self, runner: JobRunner) -> None:
        self.items: list[tuple] = []
        runner.jobStarted.connect(lambda *a: self.items.append(("started", *a)))
        runner.jobProgress.connect(lambda *a: self.items.append(("progress", *a)))
        runner.jobFailed.connect(lambda *a: self.items.append(("failed", *a)))
        runner.jobFinished.connect(lambda *a: self.items.append(("finished", *a)))

    def of(self, kind: str) -> list[tuple]:
        return [item[1:] for item in self.items if item[0] == kind]


@pytest.fixture
def runner(qtbot):
    runner = JobRunner()
    yield runner
    assert runner.stop_all(wait=True, timeout_ms=10_000)


def test_a_job_runs_to_its_result(qtbot, runner):
    log = Log(runner)
    with qtbot.waitSignal(runner.jobFinished, timeout=10_000):
        job = runner.start("train", functools.partial(counting, Probe(), 3, result={"run": 7}), name="demo")
    assert log.of("started") == [(job.id, "train", "demo")]
    assert [e for _, _, batch in log.of("progress") for e in batch] == [0, 1, 2]
    assert log.of("finished") == [(job.id, "train", "finished", {"run": 7})]
    assert job.outcome == "finished" and job.result == {"run": 7} and not runner.is_busy()
    assert log.items[-1][0] == "finished"


def test_train_lane_refuses_a_second_job_while_one_runs(qtbot, runner):
    first = runner.start("train", functools.partial(counting, Probe(), None, 0.002), name="first run")
    with pytest.raises(JobRefusedError, match="'first run' is still running; stop it"):
        runner.start("train", functools.partial(counting, Probe(), 1))
    assert runner.current("train") is first
    with qtbot.waitSignal(runner.jobFinished, timeout=10_000):
        runner.stop("train")
    runner.start("train", functools.partial(counting, Probe(), 1)).wait(10_000)


def test_stop_runs_the_generators_finally(qtbot, runner):
    probe = Probe()
    job = runner.start("train", functools.partial(counting, probe, None, 0.002))
    qtbot.waitUntil(lambda: probe.yielded > 2, timeout=10_000)
    with qtbot.waitSignal(runner.jobFinished, timeout=10_000) as blocker:
        job.stop()
    assert blocker.args[2] == "stopped" and probe.closed and job.outcome == "stopped"


def self_pausing(probe: Probe, stop: threading.Event, pause: threading.Event):
    """Like the training loop: watches the shared flags and keeps yielding while paused."""
    probe.started.set()
    try:
        while not stop.is_set():
            yield "paused" if pause.is_set() else "step"
            probe.yielded += 1
            stop.wait(0.002)
    finally:
        probe.closed = True


def test_shared_flags_leave_pausing_to_the_core(qtbot, runner):
    probe = Probe()
    stop, pause = threading.Event(), threading.Event()
    seen: list[str] = []
    runner.jobProgress.connect(lambda _id, _lane, events: seen.extend(events))
    job = runner.start("train", functools.partial(self_pausing, probe, stop, pause),
                       stop_event=stop, pause_event=pause)
    qtbot.waitUntil(lambda: "step" in seen, timeout=10_000)
    runner.set_paused("train", True)
    assert pause.is_set() and job.is_paused
    qtbot.waitUntil(lambda: "paused" in seen, timeout=10_000)  # not held by the worker: it reports
    runner.set_paused("train", False)
    with qtbot.waitSignal(runner.jobFinished, timeout=10_000):
        job.stop()
    # The core sees the shared flag too, so it may end on its own first (its result says "stopped").
    assert stop.is_set() and probe.closed and job.outcome in ("stopped", "finished")


def test_failure_is_signalled_and_logged(qtbot, runner, caplog):
    log = Log(runner)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(runner.jobFinished, timeout=10_000):
        job = runner.start("train", functools.partial(failing, Probe(), user_error("out of disk space; free 2 GB")))
    assert log.of("failed") == [(job.id, "train", "out of disk space; free 2 GB", "")]
    assert log.of("finished")[-1][2] == "failed"
    assert "out of disk space" in caplog.text


class Overlap:
    """Counts how many interactive generators run at the same moment."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def gen(self, probe: Probe, n: int | None):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            yield from counting(probe, n, 0.002)
        finally:
            with self.lock:
                self.now -= 1


def test_interactive_newest_cancels_older(qtbot, runner):
    log = Log(runner)
    overlap = Overlap()
    old_probe, skipped_probe, new_probe = Probe(), Probe(), Probe()
    old = runner.start("interactive", functools.partial(overlap.gen, old_probe, None))
    qtbot.waitUntil(lambda: old_probe.yielded > 2, timeout=10_000)
    skipped = runner.start("interactive", functools.partial(overlap.gen, skipped_probe, 5))
    new = runner.start("interactive", functools.partial(overlap.gen, new_probe, 5))
    qtbot.waitUntil(lambda: new.outcome == "finished", timeout=10_000)
    assert old.outcome == "stopped" and old_probe.closed
    assert skipped.outcome == "stopped" and not skipped_probe.started.is_set()  # replaced before it began
    assert new_probe.yielded == 5 and overlap.most == 1
    assert [args[0] for args in log.of("started")] == [old.id, new.id]
    assert {args[0]: args[2] for args in log.of("finished")} == {old.id: "stopped", skipped.id: "stopped",
                                                                 new.id: "finished"}


def test_stop_all_waits_for_every_thread(qtbot, runner):
    probes = [Probe(), Probe()]
    runner.start("train", functools.partial(counting, probes[0], None, 0.002))
    runner.start("interactive", functools.partial(counting, probes[1], None, 0.002))
    for probe in probes:
        assert probe.started.wait(10)
    assert runner.stop_all(wait=True, timeout_ms=10_000)
    assert all(p.closed for p in probes) and not runner.is_busy()


def test_unknown_lane(runner):
    with pytest.raises(ValueError, match="unknown job lane 'gpu'"):
        runner.start("gpu", lambda: iter(()))


def test_jobs_lists_running_and_waiting_and_stop_jobs_ends_them(qtbot, runner):
    from workbench.engine.runner import stop_jobs

    probes = [Probe(), Probe(), Probe()]
    train = runner.start("train", functools.partial(counting, probes[0], None, 0.002))
    old = runner.start("interactive", functools.partial(counting, probes[1], None, 0.002))
    assert probes[0].started.wait(10) and probes[1].started.wait(10)  # both generators exist before the stop
    waiting = runner.start("interactive", functools.partial(counting, probes[2], None, 0.002))
    listed = runner.jobs()
    assert train in listed and waiting in listed and runner.jobs("train") == [train]
    assert set(runner.jobs("interactive")) <= {old, waiting} and waiting in runner.jobs("interactive")
    stop_jobs(runner.jobs(), wait=True)
    qtbot.waitUntil(lambda: not runner.is_busy(), timeout=10_000)
    assert probes[0].closed and probes[1].closed and not probes[2].started.is_set()
    assert runner.jobs() == []


def test_a_job_can_have_its_events_batched_further_apart(qtbot, runner):
    """A training job's events come 250 ms apart (the window redraws its curves once a second)."""
    batches = {}
    for interval in (None, 400):
        log = Log(runner)
        with qtbot.waitSignal(runner.jobFinished, timeout=10_000):
            runner.start("train", functools.partial(counting, Probe(), 60, 0.02), name="steps", interval_ms=interval)
        batches[interval] = [batch for _, _, batch in log.of("progress")]
        assert [e for batch in batches[interval] for e in batch] == list(range(60))  # every event, in order
    # about 1.2 s of events: a dozen batches at the runner's 100 ms, three or four 400 ms apart
    assert 2 * len(batches[400]) < len(batches[None])
