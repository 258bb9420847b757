"""RunRecorder: batched metrics, flush rules, heartbeat, status transitions, checkpoint rows."""

from __future__ import annotations

import threading
import time

import pytest

from workbench.core.base.events import (
    CheckpointSaved,
    EvalFinished,
    RunFinished,
    RunStatusChanged,
    SampleGenerated,
    StepLogged,
)
from workbench.core.project.run_records import STEP_METRICS, RunRecorder
from workbench.core.project.store import ProjectStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _step(step: int) -> StepLogged:
    return StepLogged(step=step, loss=2.0 - step / 1000, lr=1e-3, grad_norm=0.5, tokens_per_s=1e4, memory_mb=10.0)


def _count(store, run_id) -> int:
    return store.query("SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?", (run_id,))[0]["n"]


def test_metrics_are_batched_and_flushed_at_every_eval(project):
    store, run_id = project
    clock = Clock()
    recorder = RunRecorder(store, run_id, clock=clock, flush_every_s=2.0)
    recorder.start(0, resumed=False)
    for step in range(1, 101):  # 100 fast steps: 1 s in all, below the 2 s flush interval
        clock.now += 0.01
        recorder.record(_step(step))
    assert _count(store, run_id) == 0 and recorder.flushes == 0
    recorder.record(EvalFinished(step=100, val_loss=1.9, val_ppl=6.7, best=True))
    assert recorder.flushes == 1
    assert _count(store, run_id) == 100 * len(STEP_METRICS) + 2
    run = store.get_run(run_id)
    assert (run["status"], run["step"], run["best_val_loss"]) == ("running", 100, 1.9)
    assert [m["value"] for m in store.metrics(run_id, "val_loss")] == [1.9]


def test_flush_at_least_every_two_seconds_with_heartbeat(project):
    store, run_id = project
    clock = Clock()
    recorder = RunRecorder(store, run_id, clock=clock, flush_every_s=2.0)
    recorder.start(0, resumed=False)
    for step in range(1, 11):  # 0.5 s per step
        clock.now += 0.5
        recorder.record(_step(step))
    assert recorder.flushes == 2  # at steps 4 and 8
    assert store.get_run(run_id)["heartbeat"] == pytest.approx(clock.now - 1.0)
    clock.now += 6.0
    recorder.tick()  # busy (evaluating) but alive
    assert store.get_run(run_id)["heartbeat"] == pytest.approx(clock.now)
    assert _count(store, run_id) == 10 * len(STEP_METRICS)


def test_status_transitions_and_samples(project):
    store, run_id = project
    recorder = RunRecorder(store, run_id)  # a run's single writer
    assert isinstance(recorder, RunRecorder) and store.get_run(run_id)["status"] == "queued"
    recorder.start(0, resumed=False)
    run = store.get_run(run_id)
    assert run["status"] == "running" and run["started"] and run["heartbeat"]
    recorder.record(RunStatusChanged(step=3, status="paused"))
    assert store.get_run(run_id)["status"] == "paused"
    recorder.record(RunStatusChanged(step=3, status="running"))
    recorder.record(SampleGenerated(step=3, prompt="\n", text="hello"))
    recorder.record(RunFinished(run_id=run_id, status="finished", step=3, message="early stopped"))
    run = store.get_run(run_id)
    assert (run["status"], run["step"], run["message"]) == ("finished", 3, "early stopped") and run["ended"]
    assert [(s["step"], s["text"]) for s in store.query("SELECT * FROM samples")] == [(3, "hello")]


def test_killed_process_shows_as_interrupted(project):
    store, run_id = project
    recorder = RunRecorder(store, run_id, clock=lambda: 1000.0)  # a heartbeat long ago
    recorder.start(0, resumed=False)
    store.close()
    reopened = ProjectStore.open(store.root)
    try:
        run = reopened.get_run(run_id)
        assert run["status"] == "interrupted" and "resume" in run["message"]
    finally:
        reopened.close()


def _budget(store, run_id, gb: float, keep: str = "auto") -> None:
    store.update("runs", run_id, train_spec={"keep_checkpoints": keep, "checkpoint_budget_gb": gb})


def test_only_latest_and_best_checkpoints_stay(project):
    """With a budget of 0 only the latest and the best stay (the behaviour before checkpoint history)."""
    store, run_id = project
    _budget(store, run_id, 0.0)
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    for step, loss, best in ((10, 2.0, True), (20, 2.1, False), (30, 2.2, False)):
        folder = store.root / "runs" / "r" / "checkpoints" / str(step)
        folder.mkdir(parents=True)
        recorder.record(EvalFinished(step=step, val_loss=loss, val_ppl=7.0, best=best))
        recorder.record(CheckpointSaved(step=step, path=f"runs/r/checkpoints/{step}", kind="latest", sha256="ab"))
    rows = store.list_checkpoints(run_id)
    assert [(r["step"], r["is_latest"], r["is_best"], r["val_loss"]) for r in rows] == [(10, 0, 1, 2.0), (30, 1, 0, 2.2)]
    assert sorted(p.name for p in (store.root / "runs/r/checkpoints").iterdir()) == ["10", "30"]
    # a new best replaces the old best
    (store.root / "runs/r/checkpoints/40").mkdir()
    recorder.record(EvalFinished(step=40, val_loss=1.5, val_ppl=4.5, best=True))
    recorder.record(CheckpointSaved(step=40, path="runs/r/checkpoints/40", kind="best", sha256="cd"))
    rows = store.list_checkpoints(run_id)
    assert [(r["step"], r["is_latest"], r["is_best"]) for r in rows] == [(40, 1, 1)]
    assert sorted(p.name for p in (store.root / "runs/r/checkpoints").iterdir()) == ["40"]


def test_resume_drops_records_past_the_checkpoint(project):
    store, run_id = project
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    for step in range(1, 21):
        recorder.record(_step(step))
    recorder.record(SampleGenerated(step=20, prompt="", text="x"))
    recorder.finish("interrupted", 20)
    again = RunRecorder(store, run_id)
    again.start(12, resumed=True)
    assert max(m["step"] for m in store.metrics(run_id)) == 12
    assert store.query("SELECT COUNT(*) AS n FROM samples")[0]["n"] == 0
    assert store.get_run(run_id)["status"] == "running" and again.seconds_writing > 0


def test_a_thread_keeps_the_heartbeat_fresh_during_a_long_step(project):
    store, run_id = project
    recorder = RunRecorder(store, run_id, heartbeat_every_s=0.05)
    recorder.start(0, resumed=False)
    first = store.get_run(run_id)["heartbeat"]
    time.sleep(0.4)  # one long step: no events at all
    assert store.get_run(run_id)["heartbeat"] > first
    beating = recorder._heartbeat
    assert beating is not None and beating.is_alive() and beating in threading.enumerate()
    recorder.record(RunFinished(run_id=run_id, status="finished", step=0))
    assert not beating.is_alive()
    ended = store.get_run(run_id)["heartbeat"]
    time.sleep(0.2)
    assert store.get_run(run_id)["heartbeat"] == ended and store.get_run(run_id)["status"] == "finished"


def test_a_resume_is_recorded_at_its_step_once_and_goes_with_an_abandoned_attempt(project):
    store, run_id = project
    store.update("runs", run_id, train_spec={"max_steps": 40})
    recorder = RunRecorder(store, run_id, clock=Clock())
    recorder.start(0, resumed=True)  # nothing to resume from: a fresh start is no resume point
    for step in range(1, 21):
        recorder.record(_step(step))
    recorder.finish("stopped", 20)
    for _ in range(2):  # resumed at 12 twice (the first attempt stopped before its first step)
        RunRecorder(store, run_id, clock=Clock()).start(12, resumed=True)
    assert [(m["step"], m["value"]) for m in store.metrics(run_id, "resume")] == [(12, 40.0)]
    later = RunRecorder(store, run_id, clock=Clock())
    later.start(12, resumed=True)
    later.finish("stopped", 12)
    RunRecorder(store, run_id, clock=Clock()).start(5, resumed=True)  # from further back: 12 was abandoned
    assert [m["step"] for m in store.metrics(run_id, "resume")] == [5]
