"""The main window's actions, menus and toolbar (File, View, Run, Help)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStyle, QToolBar

from workbench.ui.widgets.plain_text import plain_tooltip


@dataclass
class Actions:
    new_project: QAction
    open_project: QAction
    close_project: QAction
    export_run: QAction
    quit: QAction
    start_training: QAction
    stop_training: QAction
    generate: QAction
    stop_generation: QAction
    reset_layout: QAction
    crash_reports: QAction
    open_log_folder: QAction
    about: QAction
    recent_menu: QMenu
    toolbar: QToolBar


def _action(window: QMainWindow, text: str, name: str, shortcuts: tuple[str, ...] = (), tip: str = "",
            icon: QStyle.StandardPixmap | None = None) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(plain_tooltip(tip))
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    return action


def build_actions(window: QMainWindow, docks: list[QDockWidget]) -> Actions:
    sp = QStyle.StandardPixmap
    a = Actions(
        new_project=_action(window, "&New Project…", "newProjectAction", ("Ctrl+N",),
                            "Create a new project folder", sp.SP_FileIcon),
        open_project=_action(window, "&Open Project…", "openProjectAction", ("Ctrl+O",),
                             "Open a project folder (name.wbproj)", sp.SP_DialogOpenButton),
        close_project=_action(window, "&Close Project", "closeProjectAction", (), "Close the open project"),
        export_run=_action(window, "&Export Run…", "exportRunAction"),
        quit=_action(window, "&Quit", "quitAction", ("Ctrl+Q",), "Quit LM Workbench"),
        start_training=_action(window, "Start &Training", "startTrainingAction", ("F5",),
                               "Start training the model set up in the Model panel", sp.SP_MediaPlay),
        stop_training=_action(window, "St&op Training", "stopTrainingAction", ("Shift+F5",),
                              "Stop training; the run keeps a checkpoint to resume from", sp.SP_MediaStop),
        generate=_action(window, "&Generate", "generateAction", ("Ctrl+Return", "Ctrl+Enter"),
                         "Continue the playground prompt", sp.SP_MediaSeekForward),
        stop_generation=_action(window, "Stop Ge&neration", "stopGenerationAction", (), "Stop generating"),
        reset_layout=_action(window, "&Reset Layout", "resetLayoutAction", (), "Put every panel back where it started"),
        crash_reports=_action(window, "&Crash Reports…", "crashReportsAction", (),
                              "Reports the app wrote when it stopped unexpectedly"),
        open_log_folder=_action(window, "Open &Log Folder", "openLogFolderAction", (),
                                "Show the folder with the log files in the file manager"),
        about=_action(window, "&About LM Workbench", "aboutAction", (), "Versions and compute device"),
        recent_menu=QMenu("Open &Recent", window),
        toolbar=QToolBar("Main toolbar", window),
    )
    a.recent_menu.setObjectName("recentMenu")

    menu_bar = window.menuBar()
    file_menu = menu_bar.addMenu("&File")
    file_menu.setToolTipsVisible(True)
    file_menu.addActions([a.new_project, a.open_project])
    file_menu.addMenu(a.recent_menu)
    file_menu.addActions([a.close_project])
    file_menu.addSeparator()
    file_menu.addAction(a.export_run)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)

    view_menu = menu_bar.addMenu("&View")
    for dock in docks:
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    view_menu.addAction(a.toolbar.toggleViewAction())
    view_menu.addAction(a.reset_layout)

    run_menu = menu_bar.addMenu("&Run")
    run_menu.setToolTipsVisible(True)
    run_menu.addActions([a.start_training, a.stop_training])
    run_menu.addSeparator()
    run_menu.addActions([a.generate, a.stop_generation])

    help_menu = menu_bar.addMenu("&Help")
    help_menu.setToolTipsVisible(True)
    help_menu.addActions([a.crash_reports, a.open_log_folder])
    help_menu.addSeparator()
    help_menu.addAction(a.about)

    a.toolbar.setObjectName("mainToolBar")
    a.toolbar.addActions([a.new_project, a.open_project])
    a.toolbar.addSeparator()
    a.toolbar.addActions([a.start_training, a.stop_training])
    a.toolbar.addSeparator()
    a.toolbar.addAction(a.generate)
    window.addToolBar(a.toolbar)
    return a
