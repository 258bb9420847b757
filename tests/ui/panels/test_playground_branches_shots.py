"""The playground's Tokens and Samples tabs at 1366x768, light and dark, with a branch: PNGs to look
at (WORKBENCH_SHOTS=/folder keeps them)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_playground_branches import base, generate, one_run, wait_done  # noqa: F401 (fixtures)

from workbench.ui import theme

pytestmark = [pytest.mark.slow]


def test_tokens_branches_and_samples_light_and_dark(qtbot, window, one_run, shots, restore_light):  # noqa: F811
    assert window.open_project(one_run)
    window.resize(1366, 768)
    playground = window.panels.playground
    explorer = generate(qtbot, window, "the king", samples=2, tokens=40)
    explorer.tree.select((explorer.trees[0].id, explorer.trees[0].nodes[0].id))
    explorer.view.alternatives_menu(5).actions()[1].trigger()
    wait_done(qtbot, window)
    explorer.toggle.setChecked(True)
    playground.show_view(explorer)
    dock = playground.parentWidget()
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        assert theme.apply_color_scheme(QApplication.instance(), scheme) == (name == "dark")
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(explorer.palette()) == dark)
        playground.show_view(explorer)
        assert window.grab().toImage().save(str(shots / f"window_tokens_{name}.png"))
        assert playground.grab().save(str(shots / f"playground_tokens_{name}.png"))
        explorer.view.grab().save(str(shots / f"tokens_view_{name}.png"))
        playground.show_view(explorer.samples)
        assert playground.grab().save(str(shots / f"playground_samples_{name}.png"))
    assert dock is not None
