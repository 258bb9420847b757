"""Light and dark: the window follows the colour scheme, plots included. Saves PNGs to look at.

Set WORKBENCH_SHOTS=/some/folder to keep the screenshots (they go to the test's tmp folder otherwise).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.ui import theme

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]




def test_light_and_dark_screenshots(qtbot, window, project, shots, restore_light):
    app = QApplication.instance()
    window.open_project(project)
    window.panels.training.runs.select_key(window.panels.training.runs.keys()[0])
    window.resize(1360, 860)
    plot = window.panels.training.plot
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        dark = theme.apply_color_scheme(app, scheme)
        assert dark == (name == "dark")
        qtbot.wait(20)
        image = window.grab().toImage()
        assert image.save(str(shots / f"main_{name}.png"))
        background = plot.grid.backgroundBrush().color()  # the curves grid (objectName lossPlot) follows the theme
        assert (background.lightness() < 128) == dark, name
        assert theme.is_dark(window.palette()) == dark
