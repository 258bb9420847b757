"""Error dialogs (message + expandable details), the log file, and the uncaught-exception hook."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import Qt
from uncaught import raise_uncaught_twice

from workbench.core.base.errors import WorkbenchError
from workbench.ui import errors

pytestmark = [pytest.mark.qt_log_level_fail("WARNING")]


def test_error_box_is_plain_text_with_details(qtbot, workbench_home):
    box = errors.build_error_box(None, "no dataset named '<b>x</b>'", "Traceback (most recent call last): ...")
    qtbot.addWidget(box)
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert box.text() == "no dataset named '<b>x</b>'"
    assert box.detailedText().startswith("Traceback")
    assert str(workbench_home / "logs" / "workbench.log") in box.informativeText()


def test_a_user_error_has_no_details(qtbot):
    box = errors.build_error_box(None, "the project is locked")
    qtbot.addWidget(box)
    assert box.detailedText() == ""


def test_describe_exception():
    assert errors.describe_exception(WorkbenchError("free some disk space")) == ("free some disk space", "")
    try:
        {}["missing"]
    except KeyError as exc:
        message, details = errors.describe_exception(exc)
    assert "KeyError" in message and "Traceback" in details


@pytest.fixture
def file_log(workbench_home):
    path = errors.setup_logging()
    yield path
    for handler in list(errors.log.handlers):
        if getattr(handler, "_workbench_file", None) == path:
            errors.log.removeHandler(handler)
            logging.getLogger("py.warnings").removeHandler(handler)
            handler.close()


def test_uncaught_exceptions_reach_the_dialog_and_the_log(qtbot, shown_errors, file_log):
    hook = errors.ExceptionHook()
    hook.install()
    try:
        raise_uncaught_twice("slot blew up")
        qtbot.waitUntil(lambda: len(shown_errors) == 2, timeout=5000)  # the thread's comes through a queue
    finally:
        hook.uninstall()
    assert "RuntimeError: slot blew up" in shown_errors[0][0] and "Traceback" in shown_errors[0][1]
    assert "ValueError: thread blew up" in shown_errors[1][0]
    text = file_log.read_text(encoding="utf-8")
    assert "slot blew up" in text and "thread blew up" in text
    assert sys.excepthook is not hook._excepthook


def test_show_error_logs_once(shown_errors, file_log):
    errors.show_error(None, "the run is locked by another window")
    errors.show_error(None, "already logged by the worker", logged=True)
    text = file_log.read_text(encoding="utf-8")
    assert text.count("the run is locked") == 1 and "already logged" not in text
    assert [m for m, _ in shown_errors] == ["the run is locked by another window", "already logged by the worker"]
