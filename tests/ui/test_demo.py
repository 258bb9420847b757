"""`workbench --demo`: the demo project is created in the data folder and its curves start moving."""

from __future__ import annotations

import pytest

from workbench.core.project.store import ProjectStore
from workbench.ui import demo, settings

pytestmark = [pytest.mark.slow]


def test_demo_creates_its_project_and_trains(qtbot, window, shown_errors):
    assert demo.start_demo(window)
    path = demo.demo_project_path()
    assert path.parent == settings.data_dir() and (path / "project.db").is_file()
    steps = lambda: len(window.panels.training.plot.series("loss")[0])  # noqa: E731
    qtbot.waitUntil(lambda: steps() >= 5, timeout=120_000)
    assert shown_errors == []
    window.jobs.stop_training()
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=60_000)
    with ProjectStore.open(path) as store:
        assert [d["name"] for d in store.list_datasets()] == [demo.DEMO_DATASET]
        assert store.get_dataset(demo.DEMO_DATASET)["sample"] == "toy-stories"
        (run,) = store.list_runs()
        assert run["status"] == "stopped" and run["step"] >= 5
        assert (run["model_spec"]["n_layer"], run["model_spec"]["n_embd"]) == (2, 64)  # the "nano" preset
