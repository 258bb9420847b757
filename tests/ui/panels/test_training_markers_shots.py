"""The training panel at 1366x768 with three runs overlaid and their markers (a resume point,
checkpoints, one pinned), light and dark: PNGs to look at (WORKBENCH_SHOTS=/folder keeps them)."""

from __future__ import annotations

import pytest
from cli_helpers import make_runs_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.cli import main
from workbench.core.project.checkpoint_history import set_pinned
from workbench.ui import theme

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


def test_three_runs_with_markers_light_and_dark(qtbot, window, tmp_path, shots, restore_light):
    project = make_runs_project(tmp_path / "p.wbproj")
    assert main(["train", str(project), "--resume", "gpt2", "--max-steps", "8", "--json"]) == 0
    assert window.open_project(project)
    window.resize(1366, 768)
    training, store = window.panels.training, window.store
    ids = [store.get_run(name)["id"] for name in ("gpt2", "bert", "lstm")]
    set_pinned(store, ids[0], 6, True)
    training.runs.select_keys(ids)
    kinds = {m.kind for m in training.plot.grid.runs[ids[0]].markers}
    assert {"resume", "checkpoint", "pinned_checkpoint"} <= kinds
    assert training.runs.rowViewportPosition(2) + training.runs.rowHeight(2) <= training.runs.viewport().height()
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        assert theme.apply_color_scheme(QApplication.instance(), scheme) == (name == "dark")
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(training.palette()) == dark)
        training.plot.grid.flush()
        assert window.grab().toImage().save(str(shots / f"window_markers_{name}.png"))
        assert training.grab().save(str(shots / f"training_markers_{name}.png"))
