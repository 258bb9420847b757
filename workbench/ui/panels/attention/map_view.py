"""The Map tab: one attention map filling the tab, its colour scale options, and a pinned row.

A click on the map pins that query's row: a bar chart under the map shows its attention over the
text (one bar per key token, labels as many as fit) and the keys it attends to most, in words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from workbench.ui.widgets.color_scale import SCALE_TITLES, SCALES, ColorScale, auto_top
from workbench.ui.widgets.forms import plain_label
from workbench.ui.widgets.heatmap import AttentionHeatmap, tick_stride
from workbench.ui.widgets.themed_plot import ThemedPlot

TOP_KEYS = 5


class PinnedRow(ThemedPlot):
    """objectName `attentionPinnedRow`: one query's weights as bars over the key tokens."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("key token", "weight", parent, grid_x=False)
        self.setObjectName("attentionPinnedRow")
        self.setMinimumHeight(90)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.addItem(self.bars)
        self.getPlotItem().setMouseEnabled(y=False)
        self._labels: list[str] = []
        self._widest = 0
        self.values = np.zeros(0, dtype=np.float32)
        self.getPlotItem().vb.sigRangeChanged.connect(self._update_ticks)
        self.theme_ready()

    def set_row(self, values: np.ndarray, labels: Sequence[str]) -> None:
        self.values = np.asarray(values, dtype=np.float32)
        if list(labels) != self._labels:
            metrics = QFontMetrics(self.font())
            self._widest = max((metrics.horizontalAdvance(s) for s in labels), default=0) + metrics.averageCharWidth()
        self._labels = list(labels)
        self.bars.setOpts(x=np.arange(len(self.values)) + 0.5, height=self.values, width=0.8)
        self.getPlotItem().setRange(xRange=(0, max(1, len(self.values))), yRange=(0, max(1e-6, float(
            self.values.max(initial=0.0)))), padding=0.02)
        self._update_ticks()

    def _update_ticks(self, *_args) -> None:
        if not self._labels:
            return
        vb = self.getPlotItem().vb
        width_px = vb.viewPixelSize()[0]
        stride = tick_stride(len(self._labels), 1.0 / width_px if width_px > 0 else 0.0, self._widest)
        low, high = vb.viewRange()[0]
        first = max(0, int(low))
        first += (-first) % stride
        ticks = [(i + 0.5, self._labels[i]) for i in range(first, min(len(self._labels), int(high) + 1), stride)]
        self.getPlotItem().getAxis("bottom").setTicks([ticks])

    def style_items(self, foreground: QColor, background: QColor, colors: dict[str, str]) -> None:
        color = QColor(next(iter(colors.values()))) if colors else foreground
        self.bars.setOpts(brush=color, pen=pg.mkPen(None))


class MapView(QWidget):
    """The Map tab around `heatmap`. `scaleChanged` when the colour scale options change; `pinned`
    holds the pinned query row (-1: none)."""

    scaleChanged = Signal()

    def __init__(self, heatmap: AttentionHeatmap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heatmap = heatmap
        self.scale_combo = QComboBox()
        self.scale_combo.setObjectName("attentionScaleCombo")
        for kind in SCALES:
            self.scale_combo.addItem(SCALE_TITLES[kind], kind)
        self.scale_combo.setToolTip("How weights map to colours; each map gets its own range unless the "
                                    "scale is shared")
        self.shared = QCheckBox("Same scale for all heads")
        self.shared.setObjectName("attentionSharedScale")
        self.shared.setToolTip("One colour range for every layer and head of this text, so maps compare")
        self.range_label = plain_label("", wrap=False)
        self.range_label.setObjectName("attentionScaleRange")
        self.pinned_label = plain_label("Click a row of the map to see that token's attention over the text.")
        self.pinned_label.setObjectName("attentionPinnedLabel")
        self.bars = PinnedRow()
        self.bars.hide()
        controls = QHBoxLayout()
        controls.addWidget(plain_label("Colours", wrap=False))
        controls.addWidget(self.scale_combo)
        controls.addWidget(self.shared)
        controls.addWidget(self.range_label, 1)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.pinned_label)
        lower_layout.addWidget(self.bars, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(heatmap)
        split.addWidget(lower)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        self.pinned = -1
        self._shared_top = 1.0
        self._tokens: list[str] = []
        self.scale_combo.currentIndexChanged.connect(self.scaleChanged)
        self.shared.toggled.connect(self.scaleChanged)
        heatmap.rowPinned.connect(self.pin)

    def set_all_weights(self, weights: np.ndarray) -> None:
        """The [layers, heads, T, T] weights of the text: their range is the shared scale's."""
        self._shared_top = auto_top(weights) if np.asarray(weights).size else 1.0

    def show_matrix(self, matrix: np.ndarray, tokens: Sequence[str]) -> None:
        top = self._shared_top if self.shared.isChecked() else auto_top(matrix)
        scale = ColorScale(self.scale_combo.currentData() or "linear", top)
        self.range_label.setText(f"brightest at weight {top:.3g} or more")
        self._tokens = [str(t) for t in tokens]
        self.heatmap.set_matrix(matrix, self._tokens, scale=scale)
        if self.pinned >= len(self._tokens):
            self.pinned = -1
        self.pin(self.pinned)

    def clear(self) -> None:
        self.heatmap.clear_matrix()
        self._tokens = []
        self.pin(-1)

    def pin(self, row: int) -> None:
        """Show query `row`'s attention as bars (-1: hide them)."""
        matrix = self.heatmap.matrix()
        if not 0 <= row < matrix.shape[0]:
            self.pinned = -1
            self.bars.hide()
            self.pinned_label.setText("Click a row of the map to see that token's attention over the text.")
            return
        self.pinned = row
        self.heatmap.pin_row(row)
        values = matrix[row]
        order = np.argsort(-values)[:TOP_KEYS]
        strongest = ", ".join(f"{self._tokens[k]!r} ({k}) {values[k]:.2f}" for k in order if values[k] > 0)
        self.pinned_label.setText(f"Query {row} {self._tokens[row]!r} attends most to {strongest}.")
        self.bars.set_row(values, self._tokens)
        self.bars.show()
