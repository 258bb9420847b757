"""The attention panel at 1366x768 (issue 15, "a 1366x768 screen"): on a laptop screen the window tabs
Training, Playground and Attention, so the panel has the whole right column; every tab (Map, All heads,
Head view, Scores) then fits it without a vertical scrollbar. Light and dark PNGs to look at
(WORKBENCH_SHOTS=/folder keeps them)."""

from __future__ import annotations

import pytest
from cli_helpers import make_one_run_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea

from workbench.ui import theme

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

LAPTOP_WINDOWS = ((1366, 768), (1366, 688))  # the whole screen, and the first-run size on it (less task bar)


def test_every_tab_fits_a_laptop_screen_light_and_dark(qtbot, window, tmp_path, shots, restore_light):
    assert window.open_project(make_one_run_project(tmp_path / "p.wbproj"))
    panel = window.panels.attention
    window.docks["attention"].show()
    window.docks["attention"].raise_()
    qtbot.waitUntil(panel.show_button.isEnabled, timeout=60_000)
    panel.text_edit.setPlainText("the king speaks to his men and they answer")
    assert panel.request_attention()
    qtbot.waitUntil(lambda: panel.used.text().startswith("Used run"), timeout=60_000)
    assert panel.request_head_scores()
    qtbot.waitUntil(lambda: panel.overview.scores_view.scores is not None, timeout=120_000)
    scroll = panel.findChild(QScrollArea)
    tabs = ((panel.map_page, "map"), (panel.grid_page, "grid"), (panel.head_view_page, "head_view"),
            (panel.scores_page, "scores"))
    window.resize(1366, 768)
    for scheme, mode in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        theme.apply_color_scheme(QApplication.instance(), scheme)
        qtbot.waitUntil(lambda dark=(mode == "dark"): theme.is_dark(panel.palette()) == dark)
        for page, name in tabs:
            panel.tabs.setCurrentWidget(page)
            QApplication.processEvents()
            assert window.grab().save(str(shots / f"attention_{name}_{mode}.png"))
    scrolled = []
    for width, height in LAPTOP_WINDOWS:
        window.resize(width, height)
        for page, name in tabs:
            panel.tabs.setCurrentWidget(page)
            qtbot.waitUntil(page.isVisible)
            QApplication.processEvents()
            if scroll.verticalScrollBar().isVisible():
                scrolled.append((width, height, name, scroll.viewport().height(), scroll.widget().minimumSizeHint().height()))
    assert scrolled == []
