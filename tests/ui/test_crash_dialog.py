"""An uncaught exception writes a crash report; Help > Crash Reports lists and shows them.

Set WORKBENCH_SHOTS=/some/folder to keep the screenshots of the Help menu and the dialog.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
)
from uncaught import raise_uncaught_twice

from workbench.core.base.errors import WorkbenchError
from workbench.ui import crash_dialog, crash_reports, errors, theme

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


@pytest.fixture
def error_boxes(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox]:
    """Error dialogs are kept instead of shown (they are modal)."""
    boxes: list[QMessageBox] = []
    monkeypatch.setattr(errors, "_exec_box", boxes.append)
    return boxes


@pytest.fixture
def opened_urls(monkeypatch: pytest.MonkeyPatch) -> list[QUrl]:
    urls: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url) or True))
    return urls


def test_an_uncaught_exception_writes_a_report_that_the_dialog_names(qtbot, error_boxes):
    hook = errors.ExceptionHook(project_name=lambda: "poems.wbproj")
    hook.install()
    try:
        raise_uncaught_twice("slot blew up in /home/me/<b>x</b>")
        qtbot.waitUntil(lambda: len(error_boxes) == 2, timeout=5000)
    finally:
        hook.uninstall()
    reports = crash_reports.list_reports()
    assert len(reports) == 2
    by_summary = {r.summary: r.path for r in reports}
    slot = by_summary["RuntimeError: slot blew up in /home/me/<b>x</b>"]
    text = slot.read_text(encoding="utf-8")
    assert "Project: poems.wbproj" in text and "Thread: MainThread" in text and "Traceback" in text
    assert "Thread: doomed" in by_summary["ValueError: thread blew up"].read_text(encoding="utf-8")
    for box in error_boxes:
        info = box.informativeText()
        assert "Help > Crash Reports" in info and box.textFormat() == Qt.TextFormat.PlainText
    assert {p.name for p in by_summary.values()} == {
        next(w for w in box.informativeText().split() if w.startswith("crash-")).rstrip(";") for box in error_boxes}


def test_a_user_error_is_no_crash(qtbot, error_boxes):
    hook = errors.ExceptionHook()
    hook.install()
    try:
        try:
            raise WorkbenchError("no dataset named 'poems'; import one first")
        except WorkbenchError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: len(error_boxes) == 1, timeout=5000)
    finally:
        hook.uninstall()
    assert error_boxes[0].text() == "no dataset named 'poems'; import one first"
    assert "Crash Reports" not in error_boxes[0].informativeText()
    assert crash_reports.list_reports() == []
    assert not crash_reports.reports_dir().exists()


def test_a_report_that_cannot_be_written_still_shows_the_error(qtbot, error_boxes, workbench_home):
    (workbench_home / "logs").mkdir(parents=True)
    (workbench_home / "logs" / "crash-reports").write_text("a file where the folder should be")
    hook = errors.ExceptionHook()
    try:
        raise KeyError("k")
    except KeyError:
        hook._excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: len(error_boxes) == 1, timeout=5000)
    assert "KeyError" in error_boxes[0].text() and "Crash Reports" not in error_boxes[0].informativeText()


def _dialog(window, qtbot) -> QDialog:
    window.findChild(type(window.actions.crash_reports), "crashReportsAction").trigger()
    dialog = window.findChild(QDialog, "crashReportsDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_the_dialog_lists_reports_newest_first_and_shows_one(qtbot, window, opened_urls):
    older = crash_reports.write_report("ValueError: older", "Traceback\nValueError: older")
    os.utime(older, (1_700_000_000, 1_700_000_000))
    newer = crash_reports.write_report("RuntimeError: <b>newer</b>", "Traceback\n  File \"/home/<i>me</i>.py\"\n")
    dialog = _dialog(window, qtbot)
    reports = dialog.findChild(QListWidget, "crashReportList")
    text = dialog.findChild(QPlainTextEdit)
    assert reports.count() == 2 and reports.isVisible()
    assert reports.item(0).text().endswith("RuntimeError: <b>newer</b>")
    assert reports.item(1).text().endswith("ValueError: older")
    assert text.isReadOnly() and text.toPlainText() == newer.read_text(encoding="utf-8")
    assert "/home/<i>me</i>.py" in text.toPlainText()
    reports.setCurrentRow(1)
    assert text.toPlainText() == older.read_text(encoding="utf-8")

    dialog.findChild(QPushButton, "copyCrashReportButton").click()
    assert QGuiApplication.clipboard().text() == older.read_text(encoding="utf-8")
    dialog.findChild(QPushButton, "openCrashFolderButton").click()
    assert [Path(u.toLocalFile()) for u in opened_urls] == [crash_reports.reports_dir()]
    dialog.close()


def test_the_dialog_without_reports_says_so(qtbot, window):
    dialog = _dialog(window, qtbot)
    empty = dialog.findChild(QLabel, "crashReportsEmpty")
    assert empty.isVisible() and empty.textFormat() == Qt.TextFormat.PlainText
    assert empty.text() == ("No crash reports. If LM Workbench ever stops unexpectedly, a report appears here.")
    assert not dialog.findChild(QListWidget, "crashReportList").isVisible()
    assert not dialog.findChild(QPushButton, "copyCrashReportButton").isEnabled()
    dialog.close()


def test_open_log_folder(qtbot, window, opened_urls, workbench_home):
    window.findChild(type(window.actions.about), "openLogFolderAction").trigger()
    assert [Path(u.toLocalFile()) for u in opened_urls] == [workbench_home / "logs"]
    assert (workbench_home / "logs").is_dir()


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard",
                           "This plugin does not support raise")  # the menu popup, offscreen
def test_help_menu_and_dialog_screenshots(qtbot, window, restore_light):
    """The Help menu and the dialog with one report, 1366x768, light and dark."""
    shots = Path(os.environ.get("WORKBENCH_SHOTS") or crash_reports.reports_dir().parent / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        {}["checkpoint"]
    except KeyError as exc:
        message, details = errors.describe_exception(exc)
    crash_reports.write_report("KeyError: 'checkpoint'", details, "MainThread", "poems.wbproj")
    window.resize(1366, 768)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    app = QApplication.instance()
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        dark = theme.apply_color_scheme(app, scheme)
        qtbot.waitUntil(lambda dark=dark: theme.is_dark(window.palette()) == dark == theme.is_dark(help_menu.palette()))
        help_menu.popup(window.mapToGlobal(window.menuBar().geometry().bottomLeft()))
        qtbot.waitExposed(help_menu)
        assert help_menu.grab().save(str(shots / f"help_menu_{name}.png"))
        assert window.grab().save(str(shots / f"window_{name}.png"))
        help_menu.close()
        dialog = crash_dialog.show_crash_reports(window)
        qtbot.waitExposed(dialog)
        assert dialog.grab().save(str(shots / f"crash_reports_{name}.png"))
        assert dialog.report_list.count() == 1
        dialog.close()
        qtbot.waitUntil(lambda: window.findChild(QDialog, "crashReportsDialog") is None, timeout=2000)

