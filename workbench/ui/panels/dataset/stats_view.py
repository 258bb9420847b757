"""A dataset's statistics: the numbers, warnings worth acting on, and two bar charts.

The charts are pyqtgraph bar charts over categories (most frequent characters; document length
bins, whose edges may be geometric, so bars are drawn side by side and the axis names each bin).
Everything comes from the `stats` JSON of the dataset row; nothing here reads the dataset files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.panels.dataset.warnings import dataset_warnings
from workbench.ui.widgets.forms import human_count, plain_label, section_title
from workbench.ui.widgets.themed_plot import ThemedPlot

TOP_CHARACTERS_SHOWN = 24
CHART_HEIGHT = 200
MAX_AXIS_LABELS = 8
_VISIBLE = {ord(" "): "·", ord("\n"): "⏎", ord("\t"): "→", ord("\r"): "␍"}


def visible_char(char: str) -> str:
    return char.translate(_VISIBLE) if char.isprintable() or char in "\n\t\r" else f"U+{ord(char):04X}"


def length_bin_labels(edges: Sequence[int]) -> list[str]:
    """Lower edge of each bin, short: "12", "1.2 k", "3.4 M"."""
    return [human_count(e).replace(" ", "") for e in edges[:-1]]


class BarChart(ThemedPlot):
    """Bars over named categories; `bars()` returns what is drawn."""

    def __init__(self, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(x_label, y_label, parent, grid_x=False)
        self.setFixedHeight(CHART_HEIGHT)  # pyqtgraph's size hint is large; the page scrolls instead
        self.setMouseEnabled(x=False, y=False)
        item = self.getPlotItem()
        item.hideButtons()
        self._labels: list[str] = []
        self._heights: list[float] = []
        self._item = pg.BarGraphItem(x=[], height=[], width=0.8)
        item.addItem(self._item)
        self.theme_ready()

    def set_bars(self, labels: Sequence[str], heights: Sequence[float], *, label_every: int | None = None) -> None:
        self._labels, self._heights = [str(s) for s in labels], [float(h) for h in heights]
        n = len(self._heights)
        self._item.setOpts(x=list(range(n)), height=self._heights, width=0.8)
        stride = label_every or max(1, math.ceil(n / MAX_AXIS_LABELS))
        self.getPlotItem().getAxis("bottom").setTicks([[(i, s) for i, s in enumerate(self._labels) if i % stride == 0]])
        self.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        self.setYRange(0, max(self._heights, default=1.0) * 1.05 or 1.0, padding=0)

    def bars(self) -> tuple[list[str], list[float]]:
        return list(self._labels), list(self._heights)

    def style_items(self, foreground: QColor, background: QColor, colors: dict[str, str]) -> None:
        color = colors["loss"]
        self._item.setOpts(brush=pg.mkBrush(color), pen=pg.mkPen(color))


class DatasetStatsView(QScrollArea):
    """objectName `datasetStats`. `show_dataset(row)` with a dataset row from the store, or None."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetStats")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.title = section_title("")
        self.empty = plain_label("Select a dataset to see its statistics.")
        self.summary = QFormLayout()
        self.summary.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.summary.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.warnings_box = QWidget()
        self.warnings_layout = QVBoxLayout(self.warnings_box)
        self.warnings_layout.setContentsMargins(0, 0, 0, 0)
        self.warning_texts: list[str] = []
        self.characters_chart = BarChart("character (· is a space, ⏎ a newline)", "count")
        self.characters_chart.setObjectName("topCharactersChart")
        self.lengths_chart = BarChart("document length in characters (bin start)", "documents")
        self.lengths_chart.setObjectName("documentLengthChart")
        layout = QVBoxLayout(body)
        layout.addWidget(self.title)
        layout.addWidget(self.empty)
        layout.addLayout(self.summary)
        layout.addWidget(self.warnings_box)
        self.characters_title = section_title("Most frequent characters")
        layout.addWidget(self.characters_title)
        layout.addWidget(self.characters_chart)
        self.lengths_title = section_title("Document lengths")
        layout.addWidget(self.lengths_title)
        layout.addWidget(self.lengths_chart)
        layout.addStretch(1)
        self.setWidget(body)
        self.show_dataset(None)

    def summary_text(self) -> dict[str, str]:
        """The summary rows as label -> value (for tests)."""
        out = {}
        for row in range(self.summary.rowCount()):
            label = self.summary.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
            field = self.summary.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
            out[label.text().rstrip(":")] = field.text()
        return out

    def show_dataset(self, row: dict[str, Any] | None) -> None:
        stats = (row or {}).get("stats") or {}
        self.title.setText(row["name"] if row else "")
        has_stats = bool(stats) and "documents" in stats
        self.empty.setVisible(not has_stats)
        self.empty.setText("Select a dataset to see its statistics." if row is None else
                           "This dataset has no statistics (it was imported by an older version).")
        while self.summary.rowCount():
            self.summary.removeRow(0)
        for widget in (self.characters_title, self.characters_chart, self.lengths_title, self.lengths_chart):
            widget.setVisible(has_stats)
        self._show_warnings(dataset_warnings(stats) if has_stats else [])
        if not has_stats:
            self.characters_chart.set_bars([], [])
            self.lengths_chart.set_bars([], [])
            return
        for label, value in self._summary_rows(row, stats):
            self.summary.addRow(plain_label(f"{label}:", wrap=False), plain_label(value))
        top = stats.get("top_characters", [])[:TOP_CHARACTERS_SHOWN]
        self.characters_chart.set_bars([visible_char(c) for c, _n in top], [n for _c, n in top], label_every=1)
        histogram = (stats.get("document_length") or {}).get("histogram") or {}
        edges, counts = histogram.get("edges", []), histogram.get("counts", [])
        self.lengths_chart.set_bars(length_bin_labels(edges), counts)

    @staticmethod
    def _summary_rows(row: dict[str, Any], stats: dict[str, Any]) -> list[tuple[str, str]]:
        length = stats.get("document_length") or {}
        split = {"documents": "by document", "tail": "tail of the text", "none": "none"}.get(stats.get("split"), "-")
        return [
            ("Characters", f"{stats['characters']:,} ({stats.get('unique_characters', 0):,} different)"),
            ("Documents", f"{stats['documents']:,} in {stats.get('lines', 0):,} lines"),
            ("Length", f"min {length.get('min', 0):,} · mean {length.get('mean', 0):,.0f} · "
                       f"max {length.get('max', 0):,} characters"),
            ("Split", f"{split}: {stats.get('train_documents', 0):,} train / {stats.get('val_documents', 0):,} "
                      f"validation documents; {human_count(stats.get('train_chars'))} / "
                      f"{human_count(stats.get('val_chars'))} characters"),
            ("Format", f"{row.get('format', '-')}" + (f" (built-in sample {row['sample']})" if row.get("sample") else "")),
        ]

    def _show_warnings(self, warnings: list) -> None:
        while self.warnings_layout.count():
            item = self.warnings_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: deleteLater waits for the event loop, and would overlap the new rows
                item.widget().deleteLater()
        self.warning_texts = [w.text for w in warnings]
        for warning in warnings:
            self.warnings_layout.addWidget(self._warning_row(warning.text, warning.level))
        self.warnings_box.setVisible(bool(warnings))

    def _warning_row(self, text: str, level: str) -> QWidget:
        row = QWidget()
        row.setObjectName("datasetWarning")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 2, 0, 2)
        icon = QLabel()
        pixmap = QStyle.StandardPixmap.SP_MessageBoxWarning if level == "warning" else \
            QStyle.StandardPixmap.SP_MessageBoxInformation
        size = self.fontMetrics().height()
        icon.setPixmap(self.style().standardIcon(pixmap).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(icon)
        layout.addWidget(plain_label(text), 1)
        return row
