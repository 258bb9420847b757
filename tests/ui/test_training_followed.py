"""What a training job makes shows while it runs (dataset, tokenizer, run, checkpoints), and a
stopped job is named: plain Python generators stand in for the engine, writing rows as it would."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from workbench.core.base.events import CheckpointSaved, StepLogged
from workbench.core.project.store import ProjectStore, now_iso

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


def making_job(store: ProjectStore, checkpoint_at: int = 3):
    """Like the demo's job: makes a dataset, a tokenizer and a run, trains until closed, and records
    the run as stopped on the way out (as RunRecorder does); returns nothing when closed."""
    dataset = store.insert("datasets", {
        "name": "made-in-job", "dir": "datasets/job", "format": "txt", "sources": [], "spec": {}, "stats": {},
        "train_chars": 900, "val_chars": 100, "documents": 1, "sha256": "0" * 64, "created": now_iso()})
    tokenizer = store.insert("tokenizers", {
        "name": "job-chars", "kind": "char", "dataset_id": dataset, "vocab_size": 30, "dir": "tokenizers/job",
        "spec": {}, "sha256": "1" * 64, "created": now_iso()})
    run = store.insert("runs", {
        "name": "fresh-run", "dataset_id": dataset, "tokenizer_id": tokenizer, "arch": "gpt2", "model_spec": {},
        "train_spec": {"max_steps": 10_000}, "status": "running", "step": 0, "dir": "runs/fresh",
        "created": now_iso()})
    step = 0
    try:
        while True:
            step += 1
            yield StepLogged(step=step, loss=3.0, lr=1e-3, grad_norm=1.0, tokens_per_s=100.0)
            if step == checkpoint_at:
                store.insert("checkpoints", {"run_id": run, "step": step, "dir": f"runs/fresh/checkpoints/{step}",
                                             "sha256": "2" * 64, "is_latest": 1, "created": now_iso()})
                store.update("runs", run, step=step)
                yield CheckpointSaved(step=step, path=f"runs/fresh/checkpoints/{step}", kind="latest")
            time.sleep(0.01)
    finally:
        store.update("runs", run, status="stopped", step=step, message="stopped by the user")


def _names(panel_table: Any) -> list[str]:
    return [panel_table.cell_text(r, 0) for r in range(panel_table.rowCount())]


def test_what_a_training_job_makes_shows_while_it_trains(qtbot, window, project):
    window.open_project(project)
    job = window.jobs.run_training(functools.partial(making_job, window.store), "Demo-like job", 10_000)
    data, playground = window.panels.dataset, window.panels.playground
    qtbot.waitUntil(lambda: "made-in-job" in _names(data.datasets), timeout=20_000)
    assert "job-chars" in _names(data.tokenizers)
    assert window.panels.model.dataset.findText("made-in-job") >= 0
    qtbot.waitUntil(lambda: playground.run.findData("fresh-run") >= 0, timeout=20_000)
    assert job.is_active  # all of it while the job still trains
    assert playground.run.findData("tiny-gpt") < 0  # the fixture's run has no checkpoint to load
    window.jobs.stop_training()
    qtbot.waitUntil(lambda: not job.is_active, timeout=20_000)


def test_a_stopped_job_names_its_run(qtbot, window, project):
    window.open_project(project)
    job = window.jobs.run_training(functools.partial(making_job, window.store), "Demo-like job", 10_000)
    training = window.panels.training
    qtbot.waitUntil(lambda: len(training.plot.series("loss")[0]) >= 5, timeout=20_000)
    window.jobs.stop_training()
    qtbot.waitUntil(lambda: not job.is_active, timeout=20_000)
    run = window.store.get_run("fresh-run")
    assert run["status"] == "stopped" and run["step"] >= 5
    expected = f"Run 'fresh-run' stopped at step {run['step']}. stopped by the user"
    assert training.info.text() == expected
    assert window.status.currentMessage() == expected
    assert training.selected_run() == run["id"]
