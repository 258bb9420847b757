"""Projects handed to the app by the desktop: macOS FileOpen events, Windows' project.db."""

from __future__ import annotations

from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from workbench.app import FileOpenHandler, project_folder


def test_a_project_db_stands_for_its_folder(project, tmp_path):
    assert project_folder(str(project / "project.db")) == str(project)
    assert project_folder(str(project)) == str(project)
    missing = tmp_path / "gone.wbproj" / "project.db"
    assert project_folder(str(missing)) == str(missing)  # not a file: left for open_project to refuse


def test_a_finder_file_open_event_opens_the_project(window, project):
    handler = FileOpenHandler(window)
    QApplication.instance().installEventFilter(handler)
    try:
        QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(project / "project.db")))
    finally:
        QApplication.instance().removeEventFilter(handler)
    assert window.store is not None and window.store.root == project.resolve()
