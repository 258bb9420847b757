"""Help > Crash Reports: the reports in `crash_reports.reports_dir()`, newest first, one shown as text.

Everything is plain text: a traceback quotes the user's paths and project names, which Qt would
otherwise be free to read as HTML.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench import APP_NAME
from workbench.ui import crash_reports
from workbench.ui.widgets.forms import plain_label
from workbench.ui.widgets.plain_text import plain_tooltip

EMPTY_TEXT = f"No crash reports. If {APP_NAME} ever stops unexpectedly, a report appears here."
MAX_SHOWN_CHARS = 2_000_000  # a report is a few kB; this only guards against a stray huge file
_PATH_ROLE = Qt.ItemDataRole.UserRole


def open_folder(folder: Path) -> bool:
    """Show `folder` in the system's file manager (creating it first, so there is something to open)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def read_text(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_SHOWN_CHARS)
    except OSError as exc:
        return f"Could not read {path}: {exc.strerror or exc}"


class CrashReportsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashReportsDialog")
        self.setWindowTitle(f"Crash Reports — {APP_NAME}")
        self.folder = folder or crash_reports.reports_dir()

        self.report_list = QListWidget()
        self.report_list.setObjectName("crashReportList")
        self.report_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("crashReportText")
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # tracebacks line up as written
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.report_list)
        splitter.addWidget(self.text_view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 600])

        intro = plain_label(f"What {APP_NAME} wrote down when it stopped unexpectedly, newest first. "
                            "Copy one into a bug report; it shows your system, the project's folder name "
                            f"and file paths. The reports are in {self.folder}.")
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reports_page = reports_page = QWidget()
        page_layout = QVBoxLayout(reports_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(intro)
        page_layout.addWidget(splitter, 1)

        self.empty_label = plain_label(EMPTY_TEXT)
        self.empty_label.setObjectName("crashReportsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(reports_page)
        self.stack.addWidget(self.empty_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = self._button(buttons, "&Copy", "copyCrashReportButton",
                                        "Copy the report, to paste into a bug report")
        self.folder_button = self._button(buttons, "Open &Folder", "openCrashFolderButton",
                                          f"Show the reports in the file manager: {self.folder}")
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_report)
        self.folder_button.clicked.connect(self.open_report_folder)
        self.report_list.currentItemChanged.connect(self._show_current)

        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addWidget(buttons)
        self.resize(920, 540)
        self.refresh()

    @staticmethod
    def _button(box: QDialogButtonBox, text: str, name: str, tip: str) -> QPushButton:
        button = box.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)
        button.setObjectName(name)
        button.setToolTip(plain_tooltip(tip))
        button.setAutoDefault(False)
        return button

    def refresh(self) -> None:
        """List the reports again (newest first) and show the newest."""
        self.report_list.clear()
        for report in crash_reports.list_reports(self.folder):
            item = QListWidgetItem(report.title)
            item.setData(_PATH_ROLE, str(report.path))
            item.setToolTip(plain_tooltip(str(report.path)))
            self.report_list.addItem(item)
        has_reports = self.report_list.count() > 0
        self.stack.setCurrentWidget(self.reports_page if has_reports else self.empty_label)
        self.copy_button.setEnabled(has_reports)
        if has_reports:
            self.report_list.setCurrentRow(0)
        else:
            self.text_view.clear()

    def selected_path(self) -> Path | None:
        item = self.report_list.currentItem()
        return Path(item.data(_PATH_ROLE)) if item is not None else None

    @Slot()
    def _show_current(self) -> None:
        path = self.selected_path()
        self.text_view.setPlainText(read_text(path) if path is not None else "")

    @Slot()
    def copy_report(self) -> None:
        if self.selected_path() is not None:
            QGuiApplication.clipboard().setText(self.text_view.toPlainText())

    @Slot()
    def open_report_folder(self) -> None:
        open_folder(self.folder)


def show_crash_reports(parent: QWidget) -> CrashReportsDialog:
    """Open the dialog (window-modal, without blocking); an open one is refreshed and raised instead."""
    dialog = parent.findChild(CrashReportsDialog, "crashReportsDialog")
    if dialog is None:
        dialog = CrashReportsDialog(parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
    else:
        dialog.refresh()
        dialog.raise_()
        dialog.activateWindow()
    return dialog
