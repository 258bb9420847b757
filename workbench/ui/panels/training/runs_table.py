"""The runs table (objectName `runsTable`): one row per run, sortable by any column, filtered by a
text, several rows selectable for comparison.

Cells are `Cell(text, key)`: the text shown and the value a sort compares, so "3e-04" sorts as a
number and "1h 02m" by its seconds. A refresh (every 2 s while a run trains) changes only the cells
that differ when the runs are the same, and otherwise rebuilds the table, keeping the selected runs,
the current one, the sort order and the filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTableWidgetItem, QWidget

from workbench.core.base.disk import size_text
from workbench.core.ops.run_summary import RunSummary
from workbench.ui.widgets.forms import duration_text, human_count
from workbench.ui.widgets.record_table import RecordTable

HEADERS = ("Name", "Status", "Step", "Best val loss", "Model", "Params", "LR", "Batch", "Tokenizer",
           "Tokens/s", "Duration", "Disk", "Created")
EMPTY_TEXT = "No runs yet. Set up a model and press Start Training."
_KEY_ROLE = Qt.ItemDataRole.UserRole
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Cell:
    text: str
    key: Any  # what sorting compares: a number, or the text

    def __str__(self) -> str:
        return self.text


class _SortItem(QTableWidgetItem):
    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(_SORT_ROLE), other.data(_SORT_ROLE)
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
            return mine < theirs
        if isinstance(mine, (int, float)) != isinstance(theirs, (int, float)):
            return isinstance(mine, (int, float))  # numbers before blanks ("-"), whichever the order
        return str(mine).casefold() < str(theirs).casefold()


class RunsTable(RecordTable):
    """`selectionChangedKeys(list)`: the selected run ids, the current one first."""

    selectionChangedKeys = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(HEADERS, EMPTY_TEXT, parent)
        self.setObjectName("runsTable")
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # creation order until a click
        self.setSortingEnabled(True)
        self._filter = ""
        self.itemSelectionChanged.connect(self._emit_keys)

    # ---- filling -------------------------------------------------------------------------------

    def set_records(self, rows: Sequence[tuple[Any, Sequence[Any]]], select: Any = None) -> None:
        """Show these runs: the same runs change in place; otherwise rebuild, keeping the selected
        runs (or selecting `select` alone) and the sort order."""
        if select is None and self._update_in_place(rows):
            return
        keep = [select] if select is not None else self.selected_keys()
        current = select if select is not None else self.selected_key()
        self.setSortingEnabled(False)
        blocked = self.blockSignals(True)  # restored as it was: a caller may block them around this
        try:
            self.setRowCount(len(rows))
            for r, (key, cells) in enumerate(rows):
                for c, value in enumerate(cells):
                    self.setItem(r, c, _item(key, value))
            self.clearSelection()
        finally:
            self.blockSignals(blocked)
        self.setSortingEnabled(True)  # sorts by the header's indicator (none: creation order)
        self._select(keep, current)
        self.apply_filter(self._filter)
        self._fit_name_column()
        self.viewport().update()

    def _update_in_place(self, rows: Sequence[tuple[Any, Sequence[Any]]]) -> bool:
        """The same runs as shown (the refresh every 2 s while one trains): change the cells whose
        text differs and leave the rest, and the selection, alone. False: the runs differ."""
        by_key = {key: cells for key, cells in rows}
        shown = [self.item(r, 0).data(_KEY_ROLE) if self.item(r, 0) else None for r in range(self.rowCount())]
        if len(by_key) != len(rows) or len(shown) != len(rows) or any(key not in by_key for key in shown):
            return False
        self.setSortingEnabled(False)  # rows stay put while their cells change
        blocked = self.blockSignals(True)
        try:
            for r, key in enumerate(shown):
                for c, value in enumerate(by_key[key]):
                    fresh = _item(key, value)
                    item = self.item(r, c)
                    if item is None or item.text() != fresh.text() or item.data(_SORT_ROLE) != fresh.data(_SORT_ROLE):
                        self.setItem(r, c, fresh)
        finally:
            self.blockSignals(blocked)
        self.setSortingEnabled(True)
        self.apply_filter(self._filter)
        self.viewport().update()
        self._emit_keys()  # the same selection: listeners refresh what they show of it (a new name)
        return True

    def _select(self, keys: list[Any], current: Any) -> None:
        blocked = self.blockSignals(True)
        try:
            model = self.selectionModel()
            flags = model.SelectionFlag.Select | model.SelectionFlag.Rows
            for r in range(self.rowCount()):
                key = self.item(r, 0).data(_KEY_ROLE)
                if key == current:
                    model.setCurrentIndex(self.model().index(r, 0), model.SelectionFlag.NoUpdate)
                if key in keys:
                    model.select(self.model().index(r, 0), flags)
        finally:
            self.blockSignals(blocked)  # a caller's block holds: the panel's one change of selection, not two
        self._emit_selection()
        self._emit_keys()

    # ---- selection -----------------------------------------------------------------------------

    def selected_key(self) -> Any:
        """The run shown in detail: the current row when it is selected, else the first selected."""
        current = self.currentItem()
        if current is not None and current.isSelected():
            return current.data(_KEY_ROLE)
        keys = self.selected_keys()
        return keys[0] if keys else None

    def selected_keys(self) -> list[Any]:
        rows = sorted({index.row() for index in self.selectionModel().selectedRows()})
        return [self.item(r, 0).data(_KEY_ROLE) for r in rows]

    def select_keys(self, keys: Sequence[Any]) -> None:
        """Select exactly these runs, the first one current (whatever keys the user holds down)."""
        blocked = self.blockSignals(True)
        self.clearSelection()
        self.blockSignals(blocked)
        self._select(list(keys), keys[0] if keys else None)

    def select_key(self, key: Any) -> None:
        self.select_keys([key])

    def _emit_keys(self) -> None:
        keys = self.selected_keys()
        first = self.selected_key()
        self.selectionChangedKeys.emit([first, *[k for k in keys if k != first]] if first is not None else [])

    # ---- filter --------------------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        """Show only the rows with `text` in some cell (any case); "" shows every row."""
        self._filter = text.strip().casefold()
        for r in range(self.rowCount()):
            cells = (self.cell_text(r, c).casefold() for c in range(self.columnCount()))
            self.setRowHidden(r, bool(self._filter) and not any(self._filter in cell for cell in cells))

    def visible_keys(self) -> list[Any]:
        return [self.item(r, 0).data(_KEY_ROLE) for r in range(self.rowCount()) if not self.isRowHidden(r)]


def _item(key: Any, value: Any) -> QTableWidgetItem:
    cell = value if isinstance(value, Cell) else Cell("" if value is None else str(value), value)
    item = _SortItem(cell.text)
    if isinstance(cell.key, (int, float)) and not isinstance(cell.key, bool):
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setData(_SORT_ROLE, cell.key)
    else:
        item.setData(_SORT_ROLE, cell.text)
    item.setData(_KEY_ROLE, key)
    return item


# ---- the cells of a run ----------------------------------------------------------------------------

def run_cells(run: dict[str, Any], summary: RunSummary | None) -> tuple[Any, ...]:
    spec = run.get("model_spec") or {}
    shape = f"{run['arch']} {spec.get('n_layer', '?')}×{spec.get('n_embd', '?')}" if isinstance(spec, dict) else run["arch"]
    best = run["best_val_loss"]
    s = summary
    return (run["name"], run["status"], run["step"], round(best, 4) if best is not None else Cell("-", None), shape,
            _number(s.params if s else None, human_count(s.params) if s and s.params else "-"),
            _number(s.lr if s else None, f"{s.lr:.0e}" if s and s.lr is not None else "-"),
            _number(s.batch if s else None, str(s.batch) if s and s.batch is not None else "-"),
            (s.tokenizer if s else "") or "-",
            _number(s.tokens_per_s if s else None, f"{s.tokens_per_s:,.0f}" if s and s.tokens_per_s else "-"),
            _number(s.duration_s if s else None, duration_text(s.duration_s if s else None)),
            _number(s.disk_bytes if s else None, size_text(s.disk_bytes) if s else "-"),
            (run["created"] or "")[:16].replace("T", " "))


def _number(value: float | int | None, text: str) -> Cell:
    return Cell(text, value if value is not None else None)
