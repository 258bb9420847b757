"""Composition root of the GUI: QApplication, logging, JobRunner, MainWindow.

`workbench` (no subcommand), `workbench PROJECT` and `workbench --demo` end up in `run_app`. The
window is shown before PyTorch and transformers load: nothing imported here pulls them in; a
background job imports them once the window has painted, and the status bar says so.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtWidgets import QApplication

from workbench import __version__
from workbench.engine.runner import JobRunner
from workbench.ui import errors, settings, theme
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
    app = create_application(argv)
    log_path = errors.setup_logging()
    errors.install_qt_message_handler()
    errors.log.info("LM Workbench %s starting; log file %s", __version__, log_path)
    runner = JobRunner()
    window = MainWindow(runner, warm_up=not probe)
    hook = errors.ExceptionHook(window)
    hook.install()
    app.aboutToQuit.connect(runner.shutdown)
    if probe:
        window.firstPainted.connect(_report_first_paint)
    window.show()
    if project:
        window.open_project(project)
    if demo:
        from workbench.ui.demo import start_demo

        start_demo(window)
    try:
        return app.exec()
    finally:
        hook.uninstall()


def _report_first_paint() -> None:
    sys.stdout.write(f"first-paint {time.time():.6f}\n")
    sys.stdout.flush()
    for widget in QApplication.topLevelWidgets():
        widget.close()
