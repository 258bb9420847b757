"""GeneratorWorker: a core generator on its own thread, batched events, stop, pause, errors."""

from __future__ import annotations

import functools
import threading

import pytest
from engine.jobs import Probe, counting, failing, user_error

from workbench.engine.worker import GeneratorWorker

pytestmark = pytest.mark.qt_log_level_fail("WARNING")


class Recorder:
    def __init__(self, worker: GeneratorWorker) -> None:
        self.batches: list[tuple] = []
        self.returned: list[object] = []
        self.failed: list[tuple[str, str]] = []
        worker.yielded.connect(self.batches.append)
        worker.returned.connect(self.returned.append)
        worker.failed.connect(lambda m, d: self.failed.append((m, d)))

    @property
    def events(self) -> list:
        return [e for batch in self.batches for e in batch]


def test_runs_on_a_named_thread_and_returns(qtbot):
    probe = Probe()
    worker = GeneratorWorker(functools.partial(counting, probe, 5), name="count-job")
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert rec.events == [0, 1, 2, 3, 4]
    assert rec.returned == ["done"] and rec.failed == []
    assert worker.outcome == "finished" and worker.result == "done"
    assert probe.closed and probe.thread_name == "count-job"
    assert probe.thread_id != threading.get_ident()


def test_a_ready_generator_works_as_well_as_a_factory(qtbot):
    probe = Probe()
    worker = GeneratorWorker(counting(probe, 3))  # created here, advanced on the worker's thread
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert rec.events == [0, 1, 2] and rec.returned == ["done"]
    assert probe.thread_name == "workbench-job" and probe.thread_id != threading.get_ident()


def test_many_events_arrive_in_few_batches(qtbot):
    worker = GeneratorWorker(functools.partial(counting, Probe(), 5000))
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert rec.events == list(range(5000))
    assert len(rec.batches) < 100  # delivered on a timer, not one signal per event


def test_stop_closes_the_generator_at_its_next_yield(qtbot):
    probe = Probe()
    worker = GeneratorWorker(functools.partial(counting, probe, None, 0.002))
    rec = Recorder(worker)
    worker.start()
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.stop()
    assert worker.outcome == "stopped"
    assert probe.closed
    assert rec.returned == [] and rec.failed == []


def test_pause_holds_the_generator_and_stop_ends_a_pause(qtbot):
    probe = Probe()
    worker = GeneratorWorker(functools.partial(counting, probe, None, 0.001))
    worker.start()
    qtbot.waitUntil(lambda: probe.yielded > 2, timeout=10_000)
    worker.set_paused(True)
    qtbot.wait(100)
    held = probe.yielded
    qtbot.wait(200)
    assert probe.yielded <= held + 1 and worker.is_paused
    worker.set_paused(False)
    qtbot.waitUntil(lambda: probe.yielded > held + 3, timeout=10_000)
    worker.set_paused(True)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.stop()
    assert worker.outcome == "stopped" and probe.closed


def test_workbench_error_is_a_message_without_traceback(qtbot):
    probe = Probe()
    worker = GeneratorWorker(functools.partial(failing, probe, user_error()))
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert rec.failed == [("the dataset is empty; import a text file first", "")]
    assert rec.events == [0, 1] and probe.closed and worker.outcome == "failed"


def test_bug_carries_its_traceback(qtbot, caplog):
    worker = GeneratorWorker(functools.partial(failing, Probe(), ZeroDivisionError("division by zero")))
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    (message, details), = rec.failed
    assert message == "ZeroDivisionError: division by zero"
    assert "Traceback" in details and "failing" in details
    assert "division by zero" in caplog.text


def test_factory_errors_fail_the_job(qtbot):
    def factory():
        raise user_error("no project is open; open one first")

    worker = GeneratorWorker(factory)
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert rec.failed == [("no project is open; open one first", "")]


def test_wait_delivers_the_outcome_without_an_event_loop(qtbot):
    probe = Probe()
    worker = GeneratorWorker(functools.partial(counting, probe, None, 0.001))
    rec = Recorder(worker)
    finished = []
    worker.finished.connect(lambda: finished.append(True))
    worker.start()
    assert probe.started.wait(10)
    worker.stop()
    assert worker.wait(10_000)
    assert finished == [True] and worker.outcome == "stopped" and probe.closed
    assert rec.events == list(range(len(rec.events)))  # whatever was yielded was still delivered
    qtbot.wait(50)  # the queued QThread.finished arrives later and must not deliver twice
    assert finished == [True]


def test_the_first_event_is_delivered_without_waiting_for_the_batch_interval(qtbot):
    """A job's first result (the first token of a generation) must not wait out the 10 Hz batching:
    here the interval is 5 s, and the first event arrives long before it; the later ones batch."""
    release = threading.Event()

    def first_then_wait():
        yield "first"
        release.wait(10)
        yield "second"

    worker = GeneratorWorker(first_then_wait, interval_ms=5_000)
    rec = Recorder(worker)
    with qtbot.waitSignal(worker.yielded, timeout=2_000):
        worker.start()
    assert rec.events == ["first"]
    release.set()
    worker.stop()
    worker.wait()
