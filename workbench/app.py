"""Composition root of the GUI: QApplication, logging, JobRunner, MainWindow.

`workbench` (no subcommand), `workbench PROJECT` and `workbench --demo` end up in `run_app`. The
window is shown before PyTorch and transformers load: nothing imported here pulls them in; a
background job imports them once the window has painted, and the status bar says so.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

import shiboken6
from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from workbench import __version__
from workbench.engine.runner import JobRunner
from workbench.ui import crash_reports, errors, settings, theme
from workbench.ui.icons import app_icon
from workbench.ui.main_window import MainWindow

# Set by bench/bench_startup.py: print the time of the first paint and quit.
STARTUP_PROBE_ENV = "WORKBENCH_STARTUP_PROBE"


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv or [sys.argv[0]]))
    app.setApplicationName(settings.APP_NAME)
    app.setOrganizationName(settings.ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("lm-workbench")
    app.setWindowIcon(app_icon())
    theme.apply_color_scheme(app)
    return app


def run_app(project: str | None = None, demo: bool = False, argv: list[str] | None = None) -> int:
    probe = bool(os.environ.get(STARTUP_PROBE_ENV))
    fault_log = _start_fault_log()  # first: a native crash while Qt starts is worth a report too
    app = create_application(argv)
    log_path = errors.setup_logging()
    errors.install_qt_message_handler()
    errors.log.info("LM Workbench %s starting; log file %s", __version__, log_path)
    # Python's cyclic garbage collector runs in whichever thread allocates, and a job's thread that
    # destroys a Qt object of the GUI thread can crash or deadlock; pyqtgraph's collector turns
    # automatic collection off and collects from a GUI-thread timer instead (once a second).
    collector = GarbageCollector(interval=1.0)
    runner = JobRunner()
    window = MainWindow(runner, warm_up=not probe)
    hook = errors.ExceptionHook(window, project_name=lambda: window.store.root.name if window.store else None)
    hook.install()
    app.aboutToQuit.connect(runner.shutdown)
    if probe:
        window.firstPainted.connect(_report_first_paint)
    opener = FileOpenHandler(window)
    app.installEventFilter(opener)
    window.show()
    if project:
        window.open_project(project_folder(project))
    if demo:
        from workbench.ui.demo import start_demo

        start_demo(window)
    try:
        return app.exec()
    finally:
        # The window and its plots go now, while Python is whole: left to the interpreter's exit,
        # pyqtgraph's Python overrides were called from C++ destructors during finalisation and the
        # process ended with a segmentation fault (seen with the startup probe on --demo).
        if shiboken6.isValid(window):
            shiboken6.delete(window)
        collector.timer.stop()
        gc.enable()  # what runs after the window (a test, the interpreter's exit) collects as usual
        hook.uninstall()
        if fault_log is not None:
            fault_log.stop()


def _start_fault_log() -> crash_reports.FaultLog | None:
    """faulthandler into a file of this process (see crash_reports); the app starts without it when
    the log folder cannot be written."""
    try:
        return crash_reports.FaultLog.start()
    except OSError as exc:
        errors.log.warning("no crash reports for native faults: %s", exc)
        return None


def project_folder(path: str) -> str:
    """The project folder for a path given to the app: the folder itself, or the folder of its
    `project.db` (Windows' "Open with" hands the app that file, since folders cannot be associated)."""
    given = Path(path)
    return str(given.parent) if given.name == "project.db" and given.is_file() else path


class FileOpenHandler(QObject):
    """macOS hands a *.wbproj package opened in Finder (or dropped on the Dock icon) to the app as a
    FileOpen event, not as an argument: open it like one."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802  (Qt's name)
        if event.type() == QEvent.Type.FileOpen:
            path = event.file()  # type: ignore[attr-defined]  (a QFileOpenEvent)
            if path:
                self._window.open_project(project_folder(path))
                return True
        return super().eventFilter(watched, event)


def _report_first_paint() -> None:
    sys.stdout.write(f"first-paint {time.time():.6f}\n")
    sys.stdout.flush()
    # exit(), not close() or quit() (which in Qt 6 sends close events): closing asks before stopping a
    # running job (the demo's training), and nobody answers a probe. aboutToQuit stops and waits for
    # the jobs (JobRunner.shutdown).
    QApplication.exit(0)
