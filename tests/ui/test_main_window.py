"""The main window: names tests drive, projects through the menus, layout memory, errors, About."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QPlainTextEdit, QPushButton, QWidget

from workbench.ui import settings
from workbench.ui.main_window import MainWindow

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

PANELS = ("datasetPanel", "modelPanel", "trainingPanel", "attentionPanel", "playgroundPanel")
BUTTONS = ("importButton", "startTrainingButton", "pauseTrainingButton", "stopTrainingButton", "generateButton",
           "stopGenerationButton")


def test_window_has_the_names_tests_drive(window):
    assert window.objectName() == "mainWindow"
    for name in PANELS:
        panel = window.findChild(QWidget, name)
        assert panel is not None and isinstance(panel.parent(), QDockWidget), name
    for name in BUTTONS:
        assert window.findChild(QPushButton, name) is not None, name
    for name in ("promptEdit", "attentionTextEdit", "generationOutput"):
        assert isinstance(window.findChild(QPlainTextEdit, name), QPlainTextEdit), name
    assert window.findChild(QWidget, "lossPlot") is not None
    assert window.findChild(QWidget, "attentionHeatmap") is not None
    assert [m.title() for m in (a.menu() for a in window.menuBar().actions())] == ["&File", "&View", "&Run", "&Help"]


def test_shortcuts(window):
    a = window.actions
    expected = {a.new_project: "Ctrl+N", a.open_project: "Ctrl+O", a.quit: "Ctrl+Q", a.start_training: "F5",
                a.stop_training: "Shift+F5", a.generate: "Ctrl+Return"}
    for action, keys in expected.items():
        assert QKeySequence(keys) in action.shortcuts(), action.objectName()


def test_buttons_without_a_backend_say_why(window):
    """No project: every action button is disabled and its tooltip says what to do."""
    for name in ("importButton", "startTrainingButton", "generateButton", "pauseTrainingButton", "stopTrainingButton"):
        button = window.findChild(QPushButton, name)
        assert not button.isEnabled() and button.toolTip(), name
    assert "project" in window.findChild(QPushButton, "startTrainingButton").toolTip()


def test_project_rows_appear_in_the_panels(window, project):
    assert window.open_project(project)
    data = window.panels.dataset
    assert data.datasets.rowCount() == 2
    assert [data.datasets.cell_text(r, 0) for r in range(2)] == ["shakespeare", "poems <b>bold</b>"]
    assert data.datasets.cell_text(0, 1) == "1.0 M chars" and data.datasets.cell_text(1, 3) == "240"
    assert data.tokenizers.cell_text(0, 0) == "chars" and data.tokenizers.cell_text(0, 3) == "shakespeare"
    training = window.panels.training
    assert [training.runs.cell_text(r, 1) for r in range(2)] == ["finished", "failed"]
    assert training.runs.cell_text(0, 3) == "1.9876"
    training.runs.select_key(training.runs.keys()[0])
    steps, losses = training.plot.series("loss")
    assert len(steps) == 300 and losses[0] > losses[-1]
    assert len(training.plot.series("val_loss")[0]) == 3
    training.runs.select_key(training.runs.keys()[1])
    assert "nan at step 13" in training.info.text()
    assert window.panels.model.dataset.count() == 2
    assert window.status.project_label.text() == "Project: p.wbproj"
    assert window.windowTitle().startswith("p.wbproj")


def test_new_open_and_recent_projects_through_the_menus(window, tmp_path, monkeypatch, project):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "fresh"), "")))
    window.actions.new_project.trigger()
    assert window.store is not None and window.store.root == (tmp_path / "fresh.wbproj").resolve()
    assert window.panels.dataset.datasets.rowCount() == 0

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(project)))
    window.actions.open_project.trigger()
    assert window.store.root == project.resolve()
    assert settings.recent_projects()[:2] == [str(project.resolve()), str((tmp_path / "fresh.wbproj").resolve())]

    window.actions.close_project.trigger()
    assert window.store is None and window.panels.dataset.datasets.rowCount() == 0
    recent = [a for a in window.actions.recent_menu.actions() if a.data() == str(project.resolve())]
    recent[0].trigger()
    assert window.store is not None and window.store.root == project.resolve()


def test_a_missing_recent_project_is_explained_and_forgotten(window, tmp_path, shown_errors):
    gone = tmp_path / "gone.wbproj"
    settings.add_recent_project(gone)
    window._rebuild_recent_menu()
    [a for a in window.actions.recent_menu.actions() if a.data() == str(gone.resolve())][0].trigger()
    assert window.store is None
    assert shown_errors and "no project at" in shown_errors[0][0]
    assert str(gone.resolve()) not in settings.recent_projects()


def test_layout_is_remembered_and_can_be_reset(qtbot, answer_questions):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.docks["attention"].hide()
    first.removeDockWidget(first.docks["model"])
    first.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, first.docks["model"])
    first.docks["model"].show()
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert second.docks["attention"].isHidden()
    assert second.dockWidgetArea(second.docks["model"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    second.actions.reset_layout.trigger()
    assert not second.docks["attention"].isHidden()
    assert second.dockWidgetArea(second.docks["model"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    second.close()


def test_user_strings_are_plain_text(window, project):
    window.open_project(project)
    from PySide6.QtWidgets import QLabel

    for label in window.findChildren(QLabel):
        if label.objectName() in ("runInfo", "projectStatus", "datasetSummary", "modelProblem", "attentionNotice"):
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()


def test_window_starts_without_torch(tmp_path):
    """Importing the app and building the window must not import torch or transformers."""
    script = textwrap.dedent(f"""
        import sys
        from workbench.app import create_application
        from workbench.core.project.store import ProjectStore
        from workbench.ui.main_window import MainWindow
        from workbench.ui.about import about_text
        app = create_application([])
        ProjectStore.create({str(tmp_path / "p.wbproj")!r}).close()
        window = MainWindow()
        window.show()
        window.open_project({str(tmp_path / "p.wbproj")!r})
        for _ in range(5):
            app.processEvents()
        text = about_text("CPU")
        window.close()
        print("PyTorch" in text, "torch" in sys.modules, "transformers" in sys.modules)
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "False", "False"]


def test_about_lists_versions_without_importing_them():
    from importlib import metadata

    from workbench.ui.about import version_report

    report = dict(version_report("CPU"))
    assert report["PyTorch"] == metadata.version("torch")
    assert report["transformers"] == metadata.version("transformers")
    assert report["Compute device"] == "CPU" and report["Qt"]


def test_settings_and_logs_live_under_workbench_home(workbench_home: Path):
    assert settings.log_dir() == workbench_home / "logs"
    assert Path(settings.app_settings().fileName()) == workbench_home / "settings.ini"


def test_keyboard_shortcuts_reach_the_actions_from_the_prompt(qtbot, window):
    from PySide6.QtTest import QTest

    hits: list[str] = []
    window.actions.generate.triggered.connect(lambda: hits.append("generate"))
    window.actions.start_training.triggered.connect(lambda: hits.append("train"))
    window.actions.stop_training.triggered.connect(lambda: hits.append("stop"))
    prompt = window.panels.playground.prompt_edit
    prompt.setFocus()
    QTest.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(prompt, Qt.Key.Key_F5)
    QTest.keyClick(prompt, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    assert hits == ["generate", "train", "stop"] and prompt.toPlainText() == ""
    # No project is open: F5 explains why nothing started instead of doing nothing.
    assert window.status.currentMessage() == "Cannot start training: Open or create a project first."


def test_the_command_line_opens_and_paints_the_window(tmp_path):
    """`workbench PROJECT` through run_app, quitting after the first paint (the start-up probe)."""
    subprocess.run([sys.executable, "-m", "workbench", "new", str(tmp_path / "p.wbproj")], check=True,
                   capture_output=True, timeout=60)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WORKBENCH_STARTUP_PROBE": "1"}
    proc = subprocess.run([sys.executable, "-m", "workbench", str(tmp_path / "p.wbproj")], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("first-paint ")
    assert "Traceback" not in proc.stderr


def test_the_start_up_probe_quits_the_demo_while_it_trains(tmp_path):
    """`--demo` starts training at once; the probe (bench_startup.py, build.sh --check) must still quit
    on the first paint instead of waiting on the "stop training?" question nobody answers."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WORKBENCH_STARTUP_PROBE": "1",
           "WORKBENCH_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "workbench", "--demo"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("first-paint ") and "Traceback" not in proc.stderr


def test_the_first_paint_is_signalled_once_and_then_the_window_is_not_watched(qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    window = MainWindow()
    qtbot.addWidget(window)
    painted: list[bool] = []
    window.firstPainted.connect(lambda: painted.append(True))
    window.show()
    qtbot.waitUntil(lambda: painted == [True], timeout=10_000)
    window.repaint()  # later paints: no second signal
    QApplication.processEvents()
    assert window.eventFilter(window, QEvent(QEvent.Type.Paint)) is False and painted == [True]
