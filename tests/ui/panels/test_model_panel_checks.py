"""The model form says what is wrong where it is wrong (issue 10, defect 6): a warmup longer than the
run and a learning rate that is not one are marked on their field with a line under it, and Start
waits; nothing is put back silently."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from workbench.ui.widgets.spec_form import is_marked

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


@pytest.fixture
def panel(window, project: Path):
    """The model panel of a window with a project open: only the form's own checks can stop Start."""
    window.open_project(project)
    return window.panels.model


def message_of(panel, name: str) -> QLabel:
    label = panel.findChild(QLabel, name)
    assert label is not None, name
    return label


def type_into(qtbot, widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Tab)  # leave the field, as a user does


def test_a_warmup_longer_than_the_run_is_marked_and_blocks_start(panel):
    message = message_of(panel, "warmupMessage")
    panel.max_steps.setValue(300)
    panel.warmup.setValue(500)
    assert is_marked(panel.warmup) and message.isVisibleTo(panel)
    assert message.text().startswith("Warmup steps (500) are more than the run's steps (300)")
    assert "at most 300 warmup steps" in message.text() and message.text() in panel.problems()
    assert not panel.start_button.isEnabled() and panel.start_button.toolTip() == message.text()
    assert not panel.request_training()
    panel.warmup.setValue(300)  # the whole run may warm up
    assert not is_marked(panel.warmup) and not message.isVisibleTo(panel)
    assert not any("Warmup" in problem for problem in panel.problems())


@pytest.mark.parametrize(("typed", "says"), [("50", "The learning rate 50 is out of range"),
                                             ("abc", "The learning rate \u201cabc\u201d is not a number"),
                                             ("", "The learning rate is empty")])
def test_a_typed_learning_rate_that_is_not_one_stays_and_says_the_range(qtbot, panel, typed, says):
    message = message_of(panel, "lrMessage")
    panel.lr.setValue(1e-3)
    type_into(qtbot, panel.lr, typed)
    assert panel.lr.text() == typed  # not put back to 0.001 without a word
    assert is_marked(panel.lr) and message.isVisibleTo(panel)
    assert message.text() == f"{says}: type a number from 1e-06 to 0.999, such as 3e-4 or 0.0003."
    assert panel.lr.toolTip() == message.text() and message.text() in panel.problems()
    assert not panel.start_button.isEnabled() and not panel.request_training()
    assert panel.specs()[1].lr == pytest.approx(1e-3)  # the last learning rate that was one
    type_into(qtbot, panel.lr, "3e-4")
    assert not is_marked(panel.lr) and not message.isVisibleTo(panel)
    assert panel.specs()[1].lr == pytest.approx(3e-4)
    assert not any("learning rate" in problem for problem in panel.problems())


def test_the_arrow_keys_step_the_learning_rate(qtbot, panel):
    panel.lr.setValue(1e-3)
    panel.lr.setFocus()
    qtbot.keyClick(panel.lr, Qt.Key.Key_Up)
    assert panel.lr.text() == "0.002"
    qtbot.keyClick(panel.lr, Qt.Key.Key_Down)
    qtbot.keyClick(panel.lr, Qt.Key.Key_Down)
    assert panel.specs()[1].lr == pytest.approx(5e-4)
