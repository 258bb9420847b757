"""Errors in the GUI: a dialog with the message and expandable details, and a log file.

A `WorkbenchError` is the user's to fix: its message is the whole story. Anything else is a bug: the
dialog says so, carries the traceback in its details pane and names the log file, which keeps the
traceback too. `ExceptionHook` routes uncaught exceptions of any thread to the same place, and
writes a crash report (`crash_reports`) for each one that is not a `WorkbenchError`.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QtMsgType, Signal, Slot, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.ui import crash_reports
from workbench.ui.settings import APP_NAME, log_dir
from workbench.ui.widgets.plain_text import plain_message_box
from workbench.ui.wording import for_window

log = logging.getLogger("workbench")
LOG_FILE = "workbench.log"
_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


def log_file_path() -> Path:
    return log_dir() / LOG_FILE


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the `workbench` logger (and Python warnings) to a rotating file; returns its path."""
    path = log_file_path()
    if not any(getattr(h, "_workbench_file", None) == path for h in log.handlers):
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
        handler._workbench_file = path  # type: ignore[attr-defined]
        log.addHandler(handler)
        logging.getLogger("py.warnings").addHandler(handler)
        logging.captureWarnings(True)
    log.setLevel(level)
    return path


def install_qt_message_handler() -> None:
    """Qt's own warnings go to the log file as well (not to a console nobody sees)."""
    qt_log = logging.getLogger("workbench.qt")

    def handler(mode: QtMsgType, context, message: str) -> None:
        qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def build_error_box(parent: QWidget | None, message: str, details: str = "", title: str = "",
                    report: Path | None = None) -> QMessageBox:
    # The core words its messages for the command line (--block-size); the dialog uses the window's words.
    # Plain text: messages quote user input (names, paths).
    box = plain_message_box(parent, title or APP_NAME, for_window(message),
                            QMessageBox.Icon.Critical if details else QMessageBox.Icon.Warning)
    box.setObjectName("errorDialog")
    if details:
        info = f"The details are also in the log file {log_file_path()}."
        if report is not None:
            info += f"\nA crash report was saved as {report.name}; find it under Help > Crash Reports."
        box.setInformativeText(info)
        box.setDetailedText(details)
    return box


def show_error(parent: QWidget | None, message: str, details: str = "", title: str = "",
               logged: bool = False, report: Path | None = None) -> None:
    """Log the error (unless the caller did already) and show it in a modal dialog."""
    if not logged:
        log.log(logging.ERROR if details else logging.WARNING, "%s%s", message, f"\n{details}" if details else "")
    _exec_box(build_error_box(parent, message, details, title, report))


def _exec_box(box: QMessageBox) -> None:
    box.exec()


def describe_exception(exc: BaseException, tb: TracebackType | None = None) -> tuple[str, str]:
    """(message, details) for the dialog: a user error stands alone, a bug keeps its traceback."""
    if isinstance(exc, WorkbenchError):
        return str(exc), ""
    details = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
    return f"Something went wrong inside LM Workbench ({type(exc).__name__}: {exc}).", details


class ExceptionHook(QObject):
    """Uncaught exceptions of any thread -> crash report + log + error dialog in the GUI thread.

    `project_name` names the open project for the report (only its folder name: reports get shared)."""

    raised = Signal(str, str, str)  # message, details, the crash report's path ("" when none)

    def __init__(self, parent_widget: QWidget | None = None,
                 project_name: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self._project_name = project_name
        self._previous = (sys.excepthook, threading.excepthook)
        self.raised.connect(self._show)  # queued when emitted from another thread

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def _excepthook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous[0](kind, exc, tb)
            return
        self._report(exc, tb, threading.current_thread().name)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        self._report(args.exc_value, args.exc_traceback, args.thread.name if args.thread else "")

    def _report(self, exc: BaseException, tb: TracebackType | None, thread: str) -> None:
        # Written here, in the failing thread, rather than in the slot: the report must exist even if
        # the app goes down before the GUI thread gets to the dialog.
        message, details = describe_exception(exc, tb)
        report = ""
        if details:  # a WorkbenchError is the user's to fix, not a crash
            try:
                project = self._project_name() if self._project_name else None
                summary = f"{type(exc).__name__}: {exc}"
                report = str(crash_reports.write_report(summary, details, thread, project))
            except Exception:  # noqa: BLE001 - the hook must not fail on its own report
                log.exception("could not write a crash report")
        self.raised.emit(message, details, report)

    @Slot(str, str, str)
    def _show(self, message: str, details: str, report: str) -> None:
        if QApplication.instance() is None:
            log.error("%s\n%s", message, details)
            return
        show_error(self._parent_widget, message, details, report=Path(report) if report else None)
