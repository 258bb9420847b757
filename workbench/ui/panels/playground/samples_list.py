"""Several samples of one prompt in a list, each with its mean log-probability per token.

The mean log-probability (natural log, under the model's own distribution, before the sampler) says
how typical a sample is for the model; its exponent of the negative is the perplexity. Rows update
while the samples stream in; choosing a row shows that sample in the Tokens tab.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

COLUMNS = ("Sample", "Mean log p / token", "Perplexity", "Tokens", "Text")


@dataclass(frozen=True)
class SampleRow:
    label: str
    mean_logprob: float | None
    tokens: int
    text: str


class SamplesList(QTableWidget):
    """objectName `samplesList`. `sampleChosen(row)` when the user picks a sample."""

    sampleChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("samplesList")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeaderItem(1).setToolTip(
            "Natural log of the model's probability of each token, averaged: closer to 0 is more typical for the model")
        self.itemSelectionChanged.connect(self._chosen)
        self._filling = False

    def set_rows(self, rows: list[SampleRow]) -> None:
        self._filling = True
        try:
            selected = self.currentRow()
            self.setRowCount(len(rows))
            for index, row in enumerate(rows):
                mean = row.mean_logprob
                cells = (row.label, "" if mean is None else f"{mean:.3f}",
                         "" if mean is None else f"{math.exp(-mean):.2f}", f"{row.tokens:,}", row.text)
                for column, value in enumerate(cells):
                    item = self.item(index, column)
                    if item is None:
                        item = QTableWidgetItem()
                        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                        self.setItem(index, column, item)
                    item.setText(value)  # QTableWidgetItem text is plain, never markup
            if 0 <= selected < len(rows):
                self.selectRow(selected)
            self.resizeRowsToContents()
        finally:
            self._filling = False

    def mean_logprobs(self) -> list[float | None]:
        """What the list shows, as numbers (for tests and the report)."""
        return [float(self.item(r, 1).text()) if self.item(r, 1).text() else None for r in range(self.rowCount())]

    def _chosen(self) -> None:
        if not self._filling and self.currentRow() >= 0:
            self.sampleChosen.emit(self.currentRow())
