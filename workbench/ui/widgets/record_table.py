"""A read-only table of records (one row per dataset, run, ...) with a hint when it is empty.

The hint is a label over the viewport, not drawn in a Python `paintEvent`: a Python override of
a virtual holds the GIL for all it calls, so every repaint of the table (the runs table's live
row, each second while a run trains) rasterised the whole table holding the GIL the training
thread needs (`widgets/qt_paint.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QWidget

_KEY_ROLE = Qt.ItemDataRole.UserRole
# The stretching (name) column never gets narrower than this: in a narrow dock the table scrolls
# sideways instead of eliding every name to "…".
NAME_MIN_WIDTH = 110


class RecordTable(QTableWidget):
    """Rows of plain text. Numbers are right-aligned. Each row carries a key (e.g. the row's id)."""

    keySelected = Signal(object)  # the key of the selected row, or None

    def __init__(self, headers: Sequence[str], empty_text: str = "", parent: QWidget | None = None,
                 stretch_column: int = 0) -> None:
        super().__init__(0, len(headers), parent)
        self._hint = QLabel(self.viewport())
        self._hint.setTextFormat(Qt.TextFormat.PlainText)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self._hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # follows light and dark
        self._hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty_text = empty_text
        model = self.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._show_hint)
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)  # names take the slack
        self.stretch_column = stretch_column
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.itemSelectionChanged.connect(self._emit_selection)

    def set_records(self, rows: Sequence[tuple[Any, Sequence[Any]]], select: Any = None) -> None:
        """`rows` are (key, cells). Keeps the selected key selected when it is still there."""
        keep = self.selected_key() if select is None else select
        self.blockSignals(True)
        try:
            self.setRowCount(len(rows))
            for r, (key, cells) in enumerate(rows):
                for c, value in enumerate(cells):
                    item = QTableWidgetItem("" if value is None else str(value))
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    item.setData(_KEY_ROLE, key)
                    self.setItem(r, c, item)
            self.clearSelection()
            for r, (key, _cells) in enumerate(rows):
                if key == keep and keep is not None:
                    self.selectRow(r)
        finally:
            self.blockSignals(False)
        self._emit_selection()
        self._fit_name_column()
        self.viewport().update()

    def selected_key(self) -> Any:
        items = self.selectedItems()
        return items[0].data(_KEY_ROLE) if items else None

    def select_key(self, key: Any) -> None:
        for r in range(self.rowCount()):
            item = self.item(r, 0)
            if item is not None and item.data(_KEY_ROLE) == key:
                self.selectRow(r)
                return

    def keys(self) -> list[Any]:
        return [self.item(r, 0).data(_KEY_ROLE) for r in range(self.rowCount())]

    def cell_text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item else ""

    @property
    def empty_text(self) -> str:
        """The hint shown while the table has no rows."""
        return self._hint.text()

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        self._hint.setText(text)
        self._show_hint()

    def _show_hint(self) -> None:
        self._hint.setVisible(bool(self._hint.text()) and self.rowCount() == 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_name_column()
        self._hint.setGeometry(self.viewport().rect().adjusted(12, 8, -12, -8))

    def _fit_name_column(self) -> None:
        """Stretch the name column over the slack, or hold it at NAME_MIN_WIDTH when there is none."""
        header = self.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(self.columnCount()) if c != self.stretch_column)
        slack = self.viewport().width() - others
        mode = QHeaderView.ResizeMode.Stretch if slack >= NAME_MIN_WIDTH else QHeaderView.ResizeMode.Interactive
        if header.sectionResizeMode(self.stretch_column) != mode:
            header.setSectionResizeMode(self.stretch_column, mode)
        if mode == QHeaderView.ResizeMode.Interactive:
            header.resizeSection(self.stretch_column, NAME_MIN_WIDTH)

    def _emit_selection(self) -> None:
        self.keySelected.emit(self.selected_key())
