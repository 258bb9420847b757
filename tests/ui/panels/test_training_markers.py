"""Markers and overlays on the training panel's curves: resume points (recorded by the core, so a
reopened project shows them), gradient spikes and the clipping line while a run trains, the other
selected runs overlaid on the live run, and pinning a checkpoint from the run's menu or its sample."""

from __future__ import annotations

import functools
import shutil
import time
from pathlib import Path

import pytest
from cli_helpers import make_runs_project

from workbench.cli import main
from workbench.core.base.events import StepLogged
from workbench.core.project.store import ProjectStore, now_iso
from workbench.ui.widgets.charts.grid import LIVE
from workbench.ui.widgets.charts.markers import gradient_spikes

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

SPIKE_AT = 25


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = make_runs_project(tmp_path_factory.mktemp("markers") / "base.wbproj")
    assert main(["train", str(root), "--resume", "gpt2", "--max-steps", "6", "--json"]) == 0
    return root


@pytest.fixture
def runs_project(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def _kinds(panel, run_id) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for marker in panel.plot.grid.runs[run_id].markers:
        out.setdefault(marker.kind, []).append(marker.step)
    return out


def _grad(step: int) -> float:
    return 40.0 if step == SPIKE_AT else 1.0 + 0.01 * (step % 3)


def live_job(store: ProjectStore, clip: float = 1.0):
    """Makes a run (as the engine would) and streams steps with one gradient spike until closed."""
    dataset = store.get_dataset("words")["id"]
    run = store.insert("runs", {
        "name": "live-run", "dataset_id": dataset, "tokenizer_id": None, "arch": "gpt2", "model_spec": {},
        "train_spec": {"max_steps": 10_000, "grad_clip": clip}, "status": "running", "step": 0,
        "dir": "runs/live", "created": now_iso()})
    step = 0
    try:
        while True:
            step += 1
            yield StepLogged(step=step, loss=3.0 - step / 100, lr=1e-3, grad_norm=_grad(step), tokens_per_s=100.0)
            time.sleep(0.01)
    finally:
        store.update("runs", run, status="stopped", step=step, message="stopped by the user")


def test_a_resume_point_is_recorded_and_marked_when_the_project_is_reopened(window, runs_project):
    assert window.open_project(runs_project)
    training, store = window.panels.training, window.store
    gpt2 = store.get_run("gpt2")["id"]
    training.runs.select_key(gpt2)
    assert _kinds(training, gpt2)["resume"] == [4.0]
    (marker,) = [m for m in training.plot.grid.runs[gpt2].markers if m.kind == "resume"]
    assert marker.text == "resumed at step 4 (to step 6)"
    lstm = store.get_run("lstm")["id"]
    training.runs.select_keys([gpt2, lstm])
    assert "resume" not in _kinds(training, lstm)  # never resumed


def test_spikes_the_clip_line_and_the_other_runs_show_while_a_run_trains(qtbot, window, runs_project):
    assert window.open_project(runs_project)
    training, store = window.panels.training, window.store
    gpt2, lstm = (store.get_run(name)["id"] for name in ("gpt2", "lstm"))
    training.runs.select_keys([gpt2, lstm])
    job = window.jobs.run_training(functools.partial(live_job, store), "Training live-run")
    assert job is not None
    assert training.feed.overlaid() == [LIVE, gpt2, lstm]  # at once: the selected runs stay beside it
    qtbot.waitUntil(lambda: store.name_taken("runs", "live-run") and training.live_run() is not None,
                    timeout=20_000)
    live = store.get_run("live-run")["id"]
    qtbot.waitUntil(lambda: training.feed.overlaid() == [live, gpt2, lstm], timeout=20_000)
    # the table follows the live run with the others still selected, though `live_run()` was asked
    # (by this test, as by the stale-run watcher) before the table refreshed
    qtbot.waitUntil(lambda: training.selected_runs() == [live, gpt2, lstm], timeout=20_000)
    qtbot.waitUntil(lambda: float(SPIKE_AT) in _kinds(training, live).get("spike", []), timeout=20_000)
    grid = training.plot.grid
    assert grid.runs[live].clip == 1.0 and grid.runs[live].name == "live-run"  # the clipping line is drawn
    assert _kinds(training, live)["spike"] == [float(SPIKE_AT)]
    steps, _values = training.plot.series("loss", live)
    assert steps[0] == 1 and len(steps) >= SPIKE_AT  # what streamed before the run was named is kept
    with qtbot.waitSignal(window.runner.jobFinished, timeout=20_000):
        window.jobs.stop_training()
    qtbot.waitUntil(lambda: not training._live, timeout=20_000)
    assert set(training.feed.overlaid()) >= {gpt2, lstm}  # still overlaid after it ends


def test_spike_watch_finds_what_the_stored_curves_find():
    import numpy as np

    from workbench.ui.panels.training.live_curves import SpikeWatch

    steps = np.arange(1, 2001, dtype=float)
    values = 1.0 + 0.1 * np.sin(steps)
    values[[5, 700, 1999]] = [9.0, 12.0, 30.0]
    watch = SpikeWatch()
    found = []
    for start in range(0, 2000, 7):  # batches as the window gets them
        found += watch.feed(steps[start:start + 7], values[start:start + 7], now=True)
    assert [m.step for m in found] == [m.step for m in gradient_spikes(steps, values)] == [6.0, 701.0, 2000.0]


def test_spike_watch_looks_at_most_once_a_second_and_misses_nothing_between_looks():
    import numpy as np

    from workbench.ui.panels.training.live_curves import SpikeWatch

    steps = np.arange(1, 101, dtype=float)
    values = 1.0 + 0.1 * np.sin(steps)
    values[60] = 20.0  # step 61
    watch = SpikeWatch()
    assert watch.feed(steps[:50], values[:50]) == []  # the first look: nothing there
    assert watch.feed(steps[50:70], values[50:70]) == []  # the spike came within a second of it: not looked at yet
    assert [m.step for m in watch.feed(steps[70:80], values[70:80], now=True)] == [61.0]  # the next look finds it


@pytest.mark.parametrize("where", ["run menu", "sample"])
def test_a_checkpoint_pinned_from_the_window_is_marked_as_pinned(window, runs_project, where):
    assert window.open_project(runs_project)
    training, store = window.panels.training, window.store
    gpt2 = store.get_run("gpt2")["id"]  # resumed from step 4 to 6: checkpoints at 4 and 6 kept
    training.runs.select_key(gpt2)
    assert 4.0 in _kinds(training, gpt2)["checkpoint"] and "pinned_checkpoint" not in _kinds(training, gpt2)
    if where == "run menu":
        training.actions.fill_pins()
        (action,) = [a for a in training.actions.pins.actions() if a.data() == 4]
        assert not action.isChecked()
        action.trigger()
    else:
        assert training.pick_step(4)
        training.samples.pin_button.click()
    assert [r["step"] for r in store.list_checkpoints(gpt2) if r["pinned"]] == [4]
    assert _kinds(training, gpt2)["pinned_checkpoint"] == [4.0]
    if where == "sample":
        assert training.samples.pin_button.isChecked()


def test_the_table_selects_the_live_run_even_when_it_was_asked_for_first(window, runs_project):
    """The stale-run watcher asks `live_run()` on its own timer: the table must still select the run
    once it is known, with the runs that were selected before it still beside it."""
    assert window.open_project(runs_project)
    training, store = window.panels.training, window.store
    gpt2, lstm = (store.get_run(name)["id"] for name in ("gpt2", "lstm"))
    training.runs.select_keys([gpt2, lstm])
    training.begin_live("Training live-run")
    training.refresh()
    assert training.selected_runs() == []  # no run of its own yet: nothing else is picked meanwhile
    live = store.insert("runs", {
        "name": "live-run", "dataset_id": store.get_dataset("words")["id"], "tokenizer_id": None, "arch": "gpt2",
        "model_spec": {}, "train_spec": {}, "status": "running", "step": 0, "dir": "runs/live", "created": now_iso()})
    assert training.live_run() == live  # asked before the table's next refresh
    training.refresh()
    assert training.selected_runs() == [live, gpt2, lstm]
    training.end_live("stopped", None)
