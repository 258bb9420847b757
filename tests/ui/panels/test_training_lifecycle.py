"""A run's lifecycle from the training panel: rename, delete (saying what it frees; refused while it
trains), open its folder, clone its settings into the Model panel, and resume it with more steps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import make_one_run_project

from workbench.core.ops.run_lifecycle import run_disk_usage
from workbench.ui import crash_dialog
from workbench.ui.panels.training import run_actions
from workbench.ui.widgets.forms import human_count
from workbench.ui.widgets.plain_text import tooltip_text


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_one_run_project(tmp_path_factory.mktemp("one") / "base.wbproj")


@pytest.fixture
def one_run(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def test_rename_then_delete_with_the_disk_it_frees(window, one_run, answer_questions, monkeypatch):
    assert window.open_project(one_run)
    training, store = window.panels.training, window.store
    run = store.get_run("gpt2")
    actions = training.actions
    monkeypatch.setattr(run_actions, "ask_new_name", lambda parent, r: "baseline")
    actions.rename.trigger()
    assert store.get_run(run["id"])["name"] == "baseline"
    assert training.runs.cell_text(0, 0) == "baseline"
    assert window.panels.playground.run.currentData() == "baseline"  # the other panels reloaded

    size = run_disk_usage(store, run["id"])
    folder = one_run / run["dir"]
    assert folder.is_dir() and size > 0
    actions.delete.trigger()
    assert f"frees {human_count(size, 'B')}" in answer_questions[-1] and "baseline" in answer_questions[-1]
    assert store.list_runs() == [] and not folder.exists()
    assert training.runs.rowCount() == 0 and not actions.delete.isEnabled()


def test_delete_and_resume_are_refused_for_a_running_run_and_the_folder_opens(window, one_run, monkeypatch):
    assert window.open_project(one_run)
    training, store = window.panels.training, window.store
    run = store.get_run("gpt2")
    opened: list[Path] = []
    monkeypatch.setattr(crash_dialog, "open_folder", lambda folder: opened.append(folder) or True)
    training.actions.open_folder.trigger()
    assert opened == [(one_run / run["dir"]).resolve()]

    store.update("runs", run["id"], status="running")  # as another process that trains it writes
    training.refresh()
    training.runs.select_key(run["id"])
    delete = training.actions.delete
    assert not delete.isEnabled() and "being trained" in tooltip_text(delete.toolTip())
    assert not training.actions.resume.isEnabled()


def test_clone_puts_the_runs_settings_into_the_model_form(window, one_run):
    assert window.open_project(one_run)
    model = window.panels.model
    model.n_embd.setValue(64)
    model.lr.setValue(0.01)
    window.panels.training.actions.clone.trigger()
    assert model.n_embd.value() == 32 and model.n_layer.value() == 2
    assert model.lr.value() == pytest.approx(3e-3) and model.max_steps.value() == 4
    assert model.dataset.currentData() == "words" and model.tokenizer.currentData() == "chars"


def test_resume_trains_a_stopped_run_to_the_new_max_steps(qtbot, window, one_run, monkeypatch):
    assert window.open_project(one_run)
    training, store = window.panels.training, window.store
    run = store.get_run("gpt2")
    store.update("runs", run["id"], status="stopped")
    training.refresh()
    training.runs.select_key(run["id"])
    asked: list[int] = []
    monkeypatch.setattr(run_actions, "ask_max_steps", lambda parent, r, current: asked.append(current) or 6)
    assert training.actions.resume.isEnabled()
    with qtbot.waitSignal(window.runner.jobFinished, timeout=120_000):
        training.actions.resume.trigger()
        assert training.selected_run() == run["id"]  # the selection follows the run that trains
        assert not training.actions.delete.isEnabled()
    assert asked == [8]  # it had reached its max steps: twice as many are proposed
    # jobFinished may be another job's (the warm-up import): wait for the run itself to end
    qtbot.waitUntil(lambda: store.get_run(run["id"])["status"] != "running", timeout=120_000)
    resumed = store.get_run(run["id"])
    assert resumed["status"] == "finished" and resumed["step"] == 6
    assert training.selected_run() == run["id"]
    steps, _values = training.plot.series("loss")
    assert list(steps) == [1, 2, 3, 4, 5, 6]  # the old curve and the new steps, from the store
