"""The attention explorer in the window (issue 15, points 3, 5, 6 and 7): the checkpoint slider
(cached steps, play), "Show attention" from the playground with the generated part marked, and the
LSTM said plainly (no error dialog)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import make_runs_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from workbench.ui import theme
from workbench.ui.panels.attention.timeline import AttentionCache, StepAttention


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """gpt2, bert and lstm runs of 4 steps, with checkpoints at steps 2 and 4."""
    return make_runs_project(tmp_path_factory.mktemp("explorer") / "p.wbproj")


def choose_run(panel, name: str) -> None:
    panel.run.setCurrentIndex(panel.run.findData(name))


def jobs_done(window) -> bool:
    return not window.runner.is_busy("interactive")


def test_cache_drops_the_least_recently_used_beyond_its_budget():
    item = lambda step: StepAttention("r", step, "t", np.zeros((1, 1, 32, 32), np.float16), ("a",) * 32)  # noqa: E731
    cache = AttentionCache(budget=3 * 2048)
    for step in range(3):
        cache.put(item(step))
    assert cache.get("r", 0, "t") is not None  # now the most recent
    cache.put(item(3))
    assert len(cache) == 3 and cache.get("r", 1, "t") is None and cache.get("r", 0, "t") is not None


@pytest.mark.parametrize("run", ["gpt2", "bert"])
def test_the_slider_computes_each_step_once_and_plays(qtbot, window, runs, run):
    assert window.open_project(runs)
    attention = window.panels.attention
    timeline = attention.timeline
    slider = window.findChild(QWidget, "checkpointSlider")
    assert slider is timeline.slider
    choose_run(attention, run)
    assert timeline.steps == [2, 4] and timeline.isEnabled()
    attention.text_edit.setPlainText("the king speaks")
    slider.setValue(0)
    timeline.show_current()
    qtbot.waitUntil(lambda: attention.used.text() == f"Used run {run}, checkpoint step 2.", timeout=60_000)
    first = attention._weights.copy()
    slider.setValue(1)
    qtbot.waitUntil(lambda: attention.used.text() == f"Used run {run}, checkpoint step 4.", timeout=60_000)
    assert not np.array_equal(first, attention._weights)  # another checkpoint, other weights
    qtbot.waitUntil(lambda: jobs_done(window))
    started = time.perf_counter()
    slider.setValue(0)  # cached: shown at once, no job
    moved = time.perf_counter() - started
    assert attention.used.text() == f"Used run {run}, checkpoint step 2." and jobs_done(window)
    assert np.array_equal(first, attention._weights)
    print(f"cached step shown in {moved * 1000:.1f} ms")
    if run == "bert":
        assert np.triu(attention._weights[0, 0].astype(np.float32), 1).sum() > 0  # bidirectional
    timeline.play.setChecked(True)
    qtbot.waitUntil(lambda: not timeline.play.isChecked(), timeout=10_000)  # stops at the last step
    assert slider.value() == 1 and attention.used.text().endswith("step 4.")
    assert len(timeline.cache) == 2


def test_a_new_text_is_computed_again(qtbot, window, runs):
    assert window.open_project(runs)
    attention, timeline = window.panels.attention, window.panels.attention.timeline
    choose_run(attention, "gpt2")
    attention.text_edit.setPlainText("the king")
    timeline.slider.setValue(1)
    timeline.show_current()
    qtbot.waitUntil(lambda: len(attention._tokens) == 8, timeout=60_000)
    attention.text_edit.setPlainText("his men")
    timeline.slider.setValue(0)
    qtbot.waitUntil(lambda: attention._tokens == list("his·men"), timeout=60_000)
    assert len(timeline.cache) == 2


def test_show_attention_from_the_playground_marks_the_generated_part(qtbot, window, runs, shots, restore_light):
    assert window.open_project(runs)
    window.resize(1366, 768)
    playground, attention = window.panels.playground, window.panels.attention
    button = window.findChild(QWidget, "playgroundShowAttentionButton")
    assert not button.isEnabled()  # nothing generated yet
    playground.select_run("gpt2")
    playground.begin_output("the king")
    playground.append_text(" speaks to")
    playground.show_checkpoint_used("gpt2", 2)
    assert button.isEnabled()
    with qtbot.waitSignal(button.requested) as signal:
        button.click()
    assert signal.args == ["gpt2", "2", "the king", "the king speaks to"]
    qtbot.waitUntil(lambda: attention.marked_from is not None, timeout=60_000)
    assert attention.marked_from == 8 and len(attention._tokens) == 18
    assert attention.head_view.lines.marked_from == 8
    assert attention.used.text() == "Used run gpt2, checkpoint step 2."
    assert attention.timeline.current_step() == 2 and "step 2 (1 of 2)" in attention.timeline.label.text()
    assert "The last 10 tokens were generated" in attention.notice.text()
    assert attention.text_edit.toPlainText() == "the king speaks to"
    assert not window.docks["attention"].isHidden()
    attention.tabs.setCurrentWidget(attention.head_view_page)
    attention.head_view.set_heads([0, 1])
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        theme.apply_color_scheme(QApplication.instance(), scheme)
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(attention.palette()) == dark)
        assert window.grab().save(str(shots / f"head_view_window_{name}.png"))
        assert attention.grab().save(str(shots / f"head_view_panel_{name}.png"))


def test_an_lstm_is_said_plainly_without_an_error_dialog(qtbot, window, runs, shown_errors):
    assert window.open_project(runs)
    attention, playground = window.panels.attention, window.panels.playground
    choose_run(attention, "lstm")
    assert not attention.show_button.isEnabled()
    assert "LSTM, which has no attention" in attention.notice.text()
    attention.text_edit.setPlainText("the king")
    assert not attention.timeline.show_current()
    playground.select_run("lstm")
    playground.begin_output("the")
    playground.append_text(" king")
    playground.show_attention_button.click()
    assert "LSTM, which has no attention" in attention.notice.text()
    assert not window.runner.is_busy("interactive") and shown_errors == []
