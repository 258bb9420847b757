"""The settings diff of the selected runs (objectName `runDiffTable`): one row per setting whose value
differs between them, one column per run, in the runs' overlay colours' order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QHeaderView, QWidget

from workbench.ui.widgets.record_table import RecordTable

EMPTY_TEXT = "Select two or more runs (Ctrl+click, Shift+click) to overlay their curves and compare their settings."
SAME_TEXT = "The selected runs have the same settings."


class RunDiffTable(RecordTable):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(("Setting",), EMPTY_TEXT, parent)
        self.setObjectName("runDiffTable")
        self.setMinimumHeight(80)

    def set_diff(self, run_names: Sequence[str], rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """`rows`: (setting, value per run) for the settings that differ."""
        self.setColumnCount(1 + len(run_names))
        self.setHorizontalHeaderLabels(["Setting", *run_names])
        header = self.horizontalHeader()
        for c in range(1, self.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.empty_text = SAME_TEXT if len(run_names) >= 2 else EMPTY_TEXT
        self.set_records([(name, (name, *(_shown(v) for v in values))) for name, values in rows])

    def settings(self) -> list[str]:
        return [self.cell_text(r, 0) for r in range(self.rowCount())]


def _shown(value: Any) -> Any:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, (int, str)) else str(value)
