"""`workbench --demo`: the demo project is created in the data folder and its curves start moving; the
panels show what the demo makes, and a later launch goes on with the same run instead of a new one."""

from __future__ import annotations

import pytest

from workbench.core.project.store import ProjectStore
from workbench.ui import demo, settings


def test_demo_plan_reuses_the_run():
    assert demo.demo_plan(None) == "new"
    assert demo.demo_plan({"status": "failed", "step": 40}) == "new"
    for status in ("stopped", "interrupted", "queued"):
        assert demo.demo_plan({"status": status, "step": 40}) == "resume"
    assert demo.demo_plan({"status": "stopped", "step": demo.DEMO_STEPS}) == "show"
    for status in ("finished", "early_stopped", "running", "paused"):
        assert demo.demo_plan({"status": status, "step": 40}) == "show"


@pytest.mark.slow
def test_demo_creates_its_project_and_trains(qtbot, window, shown_errors):
    assert demo.start_demo(window)
    path = demo.demo_project_path()
    assert path.parent == settings.data_dir() and (path / "project.db").is_file()
    steps = lambda: len(window.panels.training.plot.series("loss")[0])  # noqa: E731
    qtbot.waitUntil(lambda: steps() >= 5, timeout=120_000)
    # the panels show what the demo's job made while it trains
    assert window.panels.dataset.datasets.cell_text(0, 0) == demo.DEMO_DATASET
    assert window.panels.dataset.datasets.selected_key() is not None  # its statistics are shown
    assert window.panels.dataset.tokenizers.cell_text(0, 0) == demo.DEMO_TOKENIZER
    assert window.panels.model.dataset.findText(demo.DEMO_DATASET) >= 0
    assert shown_errors == []
    window.jobs.stop_training()
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=60_000)
    with ProjectStore.open(path) as store:
        assert [d["name"] for d in store.list_datasets()] == [demo.DEMO_DATASET]
        assert store.get_dataset(demo.DEMO_DATASET)["sample"] == "toy-stories"
        (run,) = store.list_runs()
        assert run["status"] == "stopped" and run["step"] >= 5
        assert (run["model_spec"]["n_layer"], run["model_spec"]["n_embd"]) == (2, 64)  # the "nano" preset
    assert window.panels.playground.run.currentData() == run["name"]  # stopping keeps a checkpoint
    assert window.panels.training.info.text().startswith(f"Run {run['name']!r} stopped at step ")

    # a second launch resumes that run from its checkpoint: no second 3000-step run
    assert demo.start_demo(window)
    training = window.panels.training
    assert list(training.plot.series("loss")[0][:1]) == [1]  # the curves so far, from the store
    qtbot.waitUntil(lambda: training.plot.series("loss")[0][-1] >= run["step"] + 3, timeout=120_000)
    window.jobs.stop_training()
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=60_000)
    (resumed,) = window.store.list_runs()
    assert resumed["id"] == run["id"] and resumed["step"] >= run["step"] + 3 and resumed["status"] == "stopped"
    assert shown_errors == []

    # a finished demo run is only shown
    window.store.update("runs", run["id"], status="finished", step=demo.DEMO_STEPS)
    assert demo.start_demo(window)
    assert not window.runner.is_busy("train") and len(window.store.list_runs()) == 1
    assert training.selected_run() == run["id"] and window.panels.playground.run.currentData() == run["name"]
    assert "try it in the Playground" in window.status.currentMessage()
