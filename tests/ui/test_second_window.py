"""A project open in one window: a second window says so and offers it read-only; the command line
may still train into it."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.helpers.cli_helpers import TINY_RUN, make_words_project
from workbench.cli import main
from workbench.core.project.store import ProjectStore
from workbench.core.project.window_lock import read_window_owner
from workbench.ui.main_window import MainWindow
from workbench.ui.widgets import plain_text

Button = QMessageBox.StandardButton


@pytest.fixture
def in_use_answer(monkeypatch):
    """The "project already open" dialog is answered with `answer["button"]` (default: Open
    Read-Only) instead of shown; each box shown is recorded (other questions are answered Yes)."""
    answer: dict = {"button": Button.Open, "boxes": []}

    def exec_box(box: QMessageBox) -> Button:
        if box.objectName() != "projectInUseDialog":
            return Button.Yes
        answer["boxes"].append({"text": box.text(), "info": box.informativeText(),
                                "default": box.defaultButton().text(), "format": box.textFormat()})
        return answer["button"]

    monkeypatch.setattr(plain_text, "exec_box", exec_box)
    return answer


@pytest.fixture
def second(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_a_second_window_offers_the_project_read_only(window, second, project, in_use_answer, shown_errors):
    assert window.open_project(project)
    assert not window.store.read_only and in_use_answer["boxes"] == []

    assert second.open_project(project)
    [box] = in_use_answer["boxes"]
    assert box["text"] == (f"The project “p.wbproj” is already open in another LM Workbench window "
                           f"(process {os.getpid()} on host {read_window_owner(project)['host']}).")
    assert "overwrite each other's changes" in box["info"]
    assert box["default"] == "Open Read-Only" and box["format"] == plain_text.Qt.TextFormat.PlainText

    store = second.store
    assert store.read_only and store.open_elsewhere and shown_errors == []
    assert second.windowTitle().startswith("p.wbproj (read-only)")
    assert "open in another LM Workbench window" in second.status.currentMessage()
    action = second.actions.start_training
    assert not action.isEnabled() and "open in another LM Workbench window" in action.toolTip()
    for button in (second.panels.model.start_button, second.panels.dataset.import_button):
        assert not button.isEnabled() and "Close it in the other window" in button.toolTip()
    assert second.panels.training.runs.rowCount() == 2  # browsing works
    with pytest.raises(Exception, match="open in another LM Workbench window"):
        store.require_writable("training")

    assert not window.store.read_only and window.actions.start_training.isEnabled()  # the first keeps writing


def test_cancel_keeps_what_the_window_had(window, second, project, tmp_path, in_use_answer):
    other = tmp_path / "other.wbproj"
    ProjectStore.create(other).close()
    assert window.open_project(project)
    in_use_answer["button"] = Button.Cancel

    assert not second.open_project(project)  # no project before: still none
    assert second.store is None and second.windowTitle() == "LM Workbench"

    assert second.open_project(other)
    before = second.store
    assert not second.open_project(project)
    assert second.store is before and not before.read_only and second.actions.start_training.isEnabled()
    assert second.windowTitle().startswith("other.wbproj —")
    assert len(in_use_answer["boxes"]) == 2
    assert second.open_project(other)  # its own project again: no question, still writable
    assert len(in_use_answer["boxes"]) == 2 and not second.store.read_only


def test_the_lock_is_given_back_when_the_project_closes(window, qtbot, project, tmp_path, in_use_answer):
    assert window.open_project(project)
    assert window.close_project()
    assert read_window_owner(project) is None

    assert window.open_project(project)
    other = tmp_path / "other.wbproj"
    ProjectStore.create(other).close()
    assert window.open_project(other)  # another project: this one is free again

    third = MainWindow()
    qtbot.addWidget(third)
    assert third.open_project(project) and not third.store.read_only
    third.close()  # closing the window gives it back too
    fourth = MainWindow()
    qtbot.addWidget(fourth)
    assert fourth.open_project(project) and not fourth.store.read_only
    fourth.close()
    assert in_use_answer["boxes"] == []


def test_closing_the_first_window_lets_a_new_one_open_writable(window, second, project, in_use_answer):
    assert window.open_project(project)
    assert second.open_project(project) and second.store.read_only
    window.close()
    assert second.open_project(project)  # opened again once the other window is gone
    assert not second.store.read_only and second.actions.start_training.isEnabled()
    assert "read-only" not in second.windowTitle()
    assert len(in_use_answer["boxes"]) == 1


def test_the_command_line_trains_into_a_project_a_window_has_open(window, tmp_path, capsys, in_use_answer):
    root = make_words_project(tmp_path / "w.wbproj")
    assert window.open_project(root) and not window.store.read_only
    capsys.readouterr()
    code = main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", "gpt2",
                 *map(str, TINY_RUN), "--name", "cli", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out.splitlines()[-1])["status"] == "finished"
    assert window.store.get_run("cli")["status"] == "finished"
    assert read_window_owner(root)["pid"] == os.getpid()  # the window still holds its project
