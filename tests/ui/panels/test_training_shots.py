"""The training panel with two runs compared, in light and dark at 1366x768: PNGs to look at.

Set WORKBENCH_SHOTS=/some/folder to keep them (they go to the test's tmp folder otherwise).
"""

from __future__ import annotations

import pytest
from cli_helpers import make_runs_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.ui import theme

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]




def test_runs_compared_light_and_dark(qtbot, window, tmp_path, shots, restore_light):
    project = make_runs_project(tmp_path / "p.wbproj")
    assert window.open_project(project)
    window.resize(1366, 768)
    training = window.panels.training
    ids = [window.store.get_run(name)["id"] for name in ("gpt2", "lstm")]
    training.runs.select_keys(ids)
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        assert theme.apply_color_scheme(QApplication.instance(), scheme) == (name == "dark")
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(training.palette()) == dark)
        training.side.setCurrentWidget(training.diff)
        qtbot.waitUntil(lambda: training.diff.rowCount() > 0)
        assert window.grab().toImage().save(str(shots / f"window_compare_{name}.png"))
        assert training.grab().save(str(shots / f"training_compare_{name}.png"))
        training.runs.select_key(ids[0])
        training.pick_step(4)
        assert training.grab().save(str(shots / f"training_samples_{name}.png"))
        training.runs.select_keys(ids)
