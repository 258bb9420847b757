"""Jobs through the main window with plain Python generators: live curves, stop, failure, close."""

from __future__ import annotations

import functools
import logging
import time

import pytest
from engine.jobs import Probe, counting, failing
from PySide6.QtWidgets import QMessageBox

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import EvalFinished, RunFinished, StepLogged, TokenGenerated

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


def fake_training(probe: Probe, steps: int, delay_s: float = 0.002, run_id: int | None = None):
    """Yields what the training loop yields; returns RunFinished when given a run id, else None."""
    probe.started.set()
    try:
        for step in range(1, steps + 1):
            yield StepLogged(step=step, loss=5.0 / step, lr=1e-3, grad_norm=1.0, tokens_per_s=1000.0)
            probe.yielded += 1
            if step % 10 == 0:
                yield EvalFinished(step=step, val_loss=5.5 / step, val_ppl=1.0)
            time.sleep(delay_s)
        return RunFinished(run_id=run_id, status="finished", step=steps) if run_id is not None else None
    finally:
        probe.closed = True


def test_training_curves_follow_the_live_job(qtbot, window, project):
    window.open_project(project)
    probe = Probe()
    job = window.jobs.run_training(functools.partial(fake_training, probe, 40), "Training test", 40)
    assert window.findChild(QMessageBox) is None
    assert window.panels.training.stop_button.isEnabled() and window.panels.training.pause_button.isEnabled()
    assert not window.panels.model.start_button.isEnabled()
    assert "in progress" in window.panels.model.start_button.toolTip()
    qtbot.waitUntil(lambda: job.outcome == "finished", timeout=20_000)
    steps, losses = window.panels.training.plot.series("loss")
    assert list(steps) == list(range(1, 41)) and losses[-1] == pytest.approx(5.0 / 40)
    assert list(window.panels.training.plot.series("val_loss")[0]) == [10, 20, 30, 40]
    assert not window.panels.training.stop_button.isEnabled()
    assert not window.status.progress.isVisible()


def test_a_finished_run_is_selected_with_its_stored_metrics(qtbot, window, project):
    window.open_project(project)
    run_id = window.store.get_run("tiny-gpt")["id"]
    job = window.jobs.run_training(functools.partial(fake_training, Probe(), 5, 0.0, run_id), "Training test", 5)
    qtbot.waitUntil(lambda: job.outcome == "finished", timeout=20_000)
    assert window.panels.training.selected_run() == run_id
    assert len(window.panels.training.plot.series("loss")[0]) == 300  # from the store, not the 5 live points
    assert window.panels.training.info.text() == "Run 'tiny-gpt' finished at step 5."


def test_a_run_that_fails_inside_the_loop_is_shown(qtbot, window, project, shown_errors):
    window.open_project(project)

    def diverging():
        yield StepLogged(step=1, loss=float("nan"), lr=1e-3, grad_norm=1.0, tokens_per_s=1.0)
        return RunFinished(run_id=window.store.get_run("too-fast")["id"], status="failed", step=1,
                           message="the loss became nan at step 1; lower --lr")

    job = window.jobs.run_training(diverging, "Training test", 10)
    qtbot.waitUntil(lambda: not job.is_active, timeout=20_000)
    assert shown_errors == [("the loss became nan at step 1; lower the learning rate", "")]  # the window's words


def test_status_bar_shows_progress_and_eta(qtbot, window, project):
    window.open_project(project)
    probe = Probe()
    job = window.jobs.run_training(functools.partial(fake_training, probe, 400, 0.01), "Training test", 400)
    qtbot.waitUntil(lambda: window.status.progress.value() > 20, timeout=20_000)
    assert window.status.progress.maximum() == 400
    qtbot.waitUntil(lambda: "left" in window.status.job_label.text(), timeout=20_000)
    assert window.status.job_label.text().startswith("Training test")
    window.actions.stop_training.trigger()  # Shift+F5
    qtbot.waitUntil(lambda: job.outcome == "stopped", timeout=20_000)
    assert probe.closed


def test_stop_button_closes_the_generator(qtbot, window):
    probe = Probe()
    job = window.jobs.run_training(functools.partial(counting, probe, None, 0.002), "endless", None)
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    with qtbot.waitSignal(window.runner.jobFinished, timeout=10_000):
        window.panels.training.stop_button.click()
    assert job.outcome == "stopped" and probe.closed
    assert "stopped" in window.panels.training.info.text().lower()


def test_pause_button_pauses_the_job(qtbot, window):
    probe = Probe()
    job = window.jobs.run_training(functools.partial(counting, probe, None, 0.002), "endless", None)
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    window.panels.training.pause_button.click()
    assert job.is_paused and window.panels.training.pause_button.text() == "Resume"
    qtbot.wait(150)
    held = probe.yielded
    qtbot.wait(200)
    assert probe.yielded <= held + 1
    window.panels.training.pause_button.click()
    assert not job.is_paused
    qtbot.waitUntil(lambda: probe.yielded > held + 3, timeout=10_000)
    job.stop()
    qtbot.waitUntil(lambda: not job.is_active, timeout=10_000)


def test_a_second_training_is_refused_with_a_message(qtbot, window, shown_errors):
    probe = Probe()
    first = window.jobs.run_training(functools.partial(counting, probe, None, 0.002), "first", None)
    assert window.jobs.run_training(functools.partial(counting, Probe(), 3), "second", None) is None
    assert "'first' is still running" in shown_errors[-1][0]
    first.stop()
    qtbot.waitUntil(lambda: not first.is_active, timeout=10_000)


def test_failure_shows_the_error_dialog_and_logs_it(qtbot, window, shown_errors, caplog):
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(window.runner.jobFinished, timeout=10_000):
        window.jobs.run_training(functools.partial(failing, Probe(), WorkbenchError("the dataset is too short; "
                                                                                    "use a smaller --block-size")),
                                 "doomed", 10)
    assert shown_errors == [("the dataset is too short; use a smaller context", "")]  # the window's words
    assert "the dataset is too short" in caplog.text
    assert not window.panels.training.stop_button.isEnabled()


def test_a_bug_in_a_job_shows_its_traceback(qtbot, window, shown_errors):
    with qtbot.waitSignal(window.runner.jobFinished, timeout=10_000):
        window.jobs.run_training(functools.partial(failing, Probe(), KeyError("n_embd")), "buggy", 10)
    (message, details), = shown_errors
    assert message == "KeyError: 'n_embd'" and "Traceback" in details


def tokens(probe: Probe, text: str, delay_s: float = 0.0):
    probe.started.set()
    try:
        for i, ch in enumerate(text):
            yield TokenGenerated(sample=0, index=i, token_id=i, text=ch, prob=0.5, logprob_total=-i)
            probe.yielded += 1
            if delay_s:
                time.sleep(delay_s)
        return [text]
    finally:
        probe.closed = True


def test_newest_generation_replaces_the_older_one(qtbot, window):
    old, new = Probe(), Probe()
    first = window.jobs.run_generation(functools.partial(tokens, old, "x" * 10_000, 0.002))
    qtbot.waitUntil(lambda: old.yielded > 3, timeout=10_000)
    second = window.jobs.run_generation(functools.partial(tokens, new, "<b>To be</b>"))
    qtbot.waitUntil(lambda: second.outcome == "finished", timeout=10_000)
    assert first.outcome == "stopped" and old.closed
    assert window.panels.playground.output.toPlainText() == "<b>To be</b>"
    assert not window.panels.playground.stop_button.isEnabled()


def test_attention_replacing_a_generation_leaves_stop_off_and_stop_spares_attention(qtbot, window):
    generation, attention = Probe(), Probe()
    first = window.jobs.run_generation(functools.partial(tokens, generation, "x" * 10_000, 0.002))
    qtbot.waitUntil(lambda: generation.yielded > 3, timeout=10_000)
    playground = window.panels.playground
    assert playground.stop_button.isEnabled()
    second = window.jobs.attention.run_attention(functools.partial(counting, attention, None, 0.002))
    qtbot.waitUntil(lambda: first.outcome == "stopped" and attention.yielded > 3, timeout=10_000)
    assert not playground.stop_button.isEnabled()  # the lane is busy, but with attention, not generation
    window.jobs.stop_generation()  # e.g. the Stop shortcut: must not touch the attention job
    qtbot.wait(50)
    assert second.is_active
    second.stop()
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=10_000)


def test_close_during_an_export_asks_and_waits_for_it(qtbot, window, answer_questions):
    probe = Probe()
    job = window.jobs._start("export", "background", functools.partial(counting, probe, 100_000, 0.001), "export")
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    assert window.close()
    assert "An export is still being written" in answer_questions[0]
    assert probe.closed and job.outcome == "stopped"


def test_closing_with_only_the_warm_up_running_asks_nothing(qtbot, window, answer_questions):
    probe = Probe()
    window.jobs._start("warm-up", "background", functools.partial(counting, probe, 50, 0.001), "warm-up")
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    assert window.close()
    assert answer_questions == [] and probe.closed


def test_close_during_a_run_asks_stops_and_waits(qtbot, window, answer_questions):
    probe = Probe()
    job = window.jobs.run_training(functools.partial(fake_training, probe, 100_000), "long run", 100_000)
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    assert window.close()
    assert "Training is still running" in answer_questions[0]
    assert probe.closed and job.outcome == "stopped" and not window.runner.is_busy()
    assert job.worker.wait(0) and not job.worker.is_running  # its thread has ended


def test_close_can_be_cancelled(qtbot, window, monkeypatch):
    from workbench.ui.widgets import plain_text

    monkeypatch.setattr(plain_text, "exec_box", lambda box: QMessageBox.StandardButton.No)
    probe = Probe()
    job = window.jobs.run_training(functools.partial(counting, probe, None, 0.002), "keep going", None)
    qtbot.waitUntil(lambda: probe.yielded > 3, timeout=10_000)
    assert not window.close()
    assert window.isVisible() and job.is_active
    job.stop()
    qtbot.waitUntil(lambda: not job.is_active, timeout=10_000)


def test_warm_up_reports_what_it_loads_and_the_device(qtbot, window, monkeypatch):
    from workbench.ui import warmup
    from workbench.ui.jobs import controller as job_controller

    monkeypatch.setattr(job_controller, "warm_up", functools.partial(warmup.warm_up, (("json", "JSON", lambda: None),)))
    with qtbot.waitSignal(window.runner.jobFinished, timeout=30_000):
        window.jobs.start_warm_up()
    assert window.status.device_label.text().startswith("Device: ")
    assert not window.status.loading_label.isVisible()
    assert set(window.jobs.engines) >= {"training", "generation", "attention", "import", "export"}
