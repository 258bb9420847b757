"""The playground at 1366x768 after two generations (sampler settings, live figures, the History
tab), light and dark: PNGs to look at (WORKBENCH_SHOTS=/folder keeps them)."""

from __future__ import annotations

import pytest
from cli_helpers import make_one_run_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.core.base.specs import SampleSpec
from workbench.ui import theme

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


def test_playground_light_and_dark(qtbot, window, tmp_path, shots, restore_light):
    assert window.open_project(make_one_run_project(tmp_path / "p.wbproj"))
    window.resize(1366, 768)
    playground = window.panels.playground
    for prompt, spec in (("the king", SampleSpec(max_new_tokens=40, temperature=0.8, top_k=40, top_p=0.95, seed=3)),
                         ("his men", SampleSpec(max_new_tokens=60, seed=4, stop=("\n\n",)))):
        playground.form.set_spec(spec)
        playground.prompt_edit.setPlainText(prompt)
        assert playground.request_generation()
        qtbot.waitUntil(lambda: "generate" not in window.jobs.active_kinds() and bool(playground.summary.text()),
                        timeout=120_000)
    assert playground.figures.label.text() and playground.history.list.count() == 2
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        assert theme.apply_color_scheme(QApplication.instance(), scheme) == (name == "dark")
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(playground.palette()) == dark)
        playground.show_view(playground.output)
        assert window.grab().toImage().save(str(shots / f"window_playground_{name}.png"))
        assert playground.grab().save(str(shots / f"playground_text_{name}.png"))
        playground.show_view(playground.history)
        assert playground.grab().save(str(shots / f"playground_history_{name}.png"))
