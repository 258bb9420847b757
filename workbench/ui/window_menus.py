"""The main window's menu work that is more than a connection: the recent projects menu, exporting
the selected run, and the read-only notice. Functions of the window, kept apart so that
`main_window.py` stays the wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from workbench.core.project.store import ProjectStore
from workbench.ui import errors, settings
from workbench.ui.read_only import read_only_reason
from workbench.ui.widgets.plain_text import plain_tooltip


def rebuild_recent_menu(window: Any) -> None:
    menu = window.actions.recent_menu
    menu.clear()
    recent = settings.recent_projects()
    for path in recent:
        action = menu.addAction(path.replace("&", "&&"))  # "&&" shows "&", not a shortcut mark
        action.setToolTip(plain_tooltip(path))  # else the tooltip is the text, taken for HTML
        action.setData(path)
    if recent:
        menu.addSeparator()
        menu.addAction("Clear Recent Projects").setData("clear")
    menu.setEnabled(bool(recent))


def open_recent(window: Any, action: QAction) -> None:
    path = action.data()
    if path == "clear":
        settings.app_settings().remove(settings.RECENT_KEY)
        rebuild_recent_menu(window)
    elif path:
        window.open_project(path)


def export_run(window: Any) -> bool:
    """Export the run selected in the Training panel into a new folder beside the chosen one."""
    run_id = window.panels.training.selected_run()
    if window.store is None or run_id is None:
        errors.show_error(window, "Select a run in the Training panel first, then export it.")
        return False
    run = window.store.get_run(run_id)
    parent = QFileDialog.getExistingDirectory(window, f"Export {run['name']} into folder", str(Path.home()))
    if not parent:
        return False
    existing = {p.name for p in Path(parent).iterdir()} if Path(parent).is_dir() else set()
    out = Path(parent) / free_name(f"{run['name']}-hf", existing)
    return window.jobs.export_run(run["name"], out) is not None


def free_name(stem: str, taken: set[str]) -> str:
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    return name


def show_read_only(window: Any, store: ProjectStore | None) -> None:
    """Training cannot save anything in a read-only project: its action says so (the panels'
    buttons say the same); browsing, generating, attention and export stay available."""
    reason = read_only_reason(store, "Training")
    action = window.actions.start_training
    action.setEnabled(not reason)
    tip = reason or "Start training the model set up in the Model panel"
    action.setStatusTip(tip)
    action.setToolTip(plain_tooltip(tip))
    if reason:
        why = ("is open in another LM Workbench window, so it is read-only here"
               if store is not None and store.open_elsewhere else "is read-only")
        window.status.showMessage(f"This project {why}: you can browse it, generate, look at attention "
                                  "and export runs, but not change it.", 15_000)


def running_work(window: Any) -> str:
    """What closing now would stop, in words; "" when nothing the user started is running."""
    if window.runner.is_busy("train"):
        return ("Training is still running: it will stop and keep a checkpoint at the current step, "
                "so it can be resumed.")
    task = window.data_jobs.task
    if task is not None and task.job.is_active:
        return f"{task.title} is still running: it will be cancelled, and nothing half-made is kept."
    if window.jobs.active_kinds() & {"export", "import"}:
        return "An export is still being written: closing waits for it to finish."
    if window.runner.is_busy("interactive"):
        return "The running job will be stopped."
    return ""
