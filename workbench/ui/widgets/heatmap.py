"""An attention heatmap: a [queries x keys] matrix as an image, token labels on both axes.

Row i is what token i attends to (queries down the left, keys along the bottom); the value under
the mouse is read out below the image. The colour scale is a `ColorScale` (its own range per map by
default, power and log spreads: `widgets/color_scale.py`). The wheel zooms and token labels appear
as cells grow wide enough for them; a click pins a query row (`rowPinned`), outlined on the map.

Speed at 1024 tokens: one ImageItem with a lookup table, no item per cell; labels are made only
for the visible part of the axis, and switching to a map of the same size keeps the zoom.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from workbench.ui.theme import plot_colors
from workbench.ui.widgets.color_scale import ColorScale
from workbench.ui.widgets.themed_plot import FollowsPalette, color_axes

MAX_TICKS = 40  # before the widget has a size


def tick_stride(count: int, cell_px: float, label_px: float) -> int:
    """Label every n-th token so labels `label_px` apart never overlap on cells `cell_px` wide."""
    if count <= 0:
        return 1
    if cell_px <= 0:  # not laid out yet
        return max(1, int(np.ceil(count / MAX_TICKS)))
    return max(1, int(np.ceil(label_px / cell_px)))


def _ticks(labels: Sequence[str], stride: int, low: float = 0, high: float | None = None) -> list[tuple[float, str]]:
    """Every `stride`-th label whose cell lies in [low, high) (the visible part of the axis)."""
    first = max(0, int(np.floor(low)))
    first += (-first) % stride
    last = len(labels) if high is None else min(len(labels), int(np.ceil(high)) + 1)
    return [(i + 0.5, labels[i]) for i in range(first, last, stride)]


class AttentionHeatmap(FollowsPalette, pg.GraphicsLayoutWidget):
    """objectName `attentionHeatmap`. `rowPinned(row)` on a click in the map (-1: outside it)."""

    rowPinned = Signal(int)

    def __init__(self, parent: QWidget | None = None, empty_text: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("attentionHeatmap")
        self.setMinimumSize(220, 200)
        self.empty_text = empty_text
        self.plot = self.addPlot(row=0, col=0)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)  # square cells: rows and columns are the same tokens
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "query token")
        self.plot.setLabel("bottom", "key token")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.pin_box = QRectF()
        self.pin_outline = pg.QtWidgets.QGraphicsRectItem()
        self.pin_outline.setZValue(10)
        self.pin_outline.hide()
        self.plot.addItem(self.pin_outline)
        self.scale = ColorScale()
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"),
                                        interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.colorbar.axis.enableAutoSIPrefix(False)  # "weight (x0.001)" reads worse than 0.004
        self.readout = pg.LabelItem(justify="left")
        self._readout_plain = ""
        self.addItem(self.readout, row=1, col=0)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._col_widths = np.zeros(1, dtype=np.int64)
        self.row_stride = self.col_stride = 1
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.plot.vb.sigResized.connect(self._update_ticks)
        self.plot.vb.sigRangeChanged.connect(self._update_ticks)  # zooming in brings labels
        self._ready = True
        self._restyle()
        self.clear_matrix()

    def set_matrix(self, matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str] | None = None,
                   scale: ColorScale | None = None) -> None:
        """Show `matrix` (raw weights: the readout and `matrix()` give these) in colours by `scale`
        (default: linear over 0-1). A map of the same size as the one shown keeps the zoom."""
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"a heatmap needs a 2-D matrix, got shape {matrix.shape}")
        same_size = matrix.shape == self._matrix.shape
        self._matrix = matrix
        self._rows = [str(s) for s in row_labels]
        cols = [str(s) for s in (row_labels if col_labels is None else col_labels)]
        if cols != self._cols:  # measured once per text: 1024 measurements take ~10 ms
            metrics = QFontMetrics(self.font())
            self._col_widths = np.array([metrics.horizontalAdvance(label) for label in cols] or [0])
        self._cols = cols
        self.scale = scale or ColorScale()
        levels = self.scale.levels()
        self.image.setImage(self.scale.image(matrix), levels=levels, autoLevels=False)
        self.colorbar.setLevels(levels)
        self.colorbar.axis.setLabel(self.scale.label())
        if not same_size:
            self.image.setRect(0, 0, matrix.shape[1], matrix.shape[0])
            self.plot.autoRange(padding=0)
            self.pin_row(-1)
        self._update_ticks()
        self._set_readout("Point at a cell to read its weight.")
        self.setToolTip("Wheel: zoom (token labels appear as cells grow). Click a cell: pin its query row.")

    def pin_row(self, row: int) -> None:
        """Outline query row `row` (-1: none)."""
        if 0 <= row < self._matrix.shape[0]:
            self.pin_outline.setRect(QRectF(0, row, self._matrix.shape[1], 1))
            self.pin_outline.show()
        else:
            self.pin_outline.hide()

    def zoom_to(self, first: int, last: int) -> None:
        """Show tokens first..last (inclusive) on both axes."""
        self.plot.setRange(xRange=(first, last + 1), yRange=(first, last + 1), padding=0)

    def clear_matrix(self) -> None:
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows, self._cols = [], []
        self.image.clear()
        self.pin_outline.hide()
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTicks([[]])
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self._set_readout(self.empty_text)

    def _update_ticks(self, *_args) -> None:
        """As many token labels as fit: every one on a large map, every n-th on a small one."""
        if not self._rows:
            return
        metrics = QFontMetrics(self.font())
        width_px, height_px = self.plot.vb.viewPixelSize()  # view units per pixel; one cell is one unit
        cell_w = 1.0 / width_px if width_px > 0 else 0.0
        cell_h = 1.0 / height_px if height_px > 0 else 0.0
        (x_low, x_high), (y_low, y_high) = self.plot.vb.viewRange()
        visible = self._col_widths[max(0, int(x_low)):max(0, int(np.ceil(x_high)))]
        widest = int((visible if visible.size else self._col_widths).max()) + metrics.averageCharWidth()
        self.row_stride = tick_stride(len(self._rows), cell_h, metrics.height())
        self.col_stride = tick_stride(len(self._cols), cell_w, widest)
        self.plot.getAxis("left").setTicks([_ticks(self._rows, self.row_stride, y_low, y_high)])
        self.plot.getAxis("bottom").setTicks([_ticks(self._cols, self.col_stride, x_low, x_high)])

    def matrix(self) -> np.ndarray:
        return self._matrix.copy()

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(row, column) of the cell under scene position `pos`, None off the map."""
        if not self._matrix.size or not self.plot.vb.sceneBoundingRect().contains(pos):
            return None
        point = self.plot.vb.mapSceneToView(pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < self._matrix.shape[0] and 0 <= col < self._matrix.shape[1]:
            return row, col
        return None

    def _on_mouse_moved(self, pos: QPointF) -> None:
        cell = self.cell_at(pos)
        if cell is not None:
            row, col = cell
            self._set_readout(f"query {row} {self._rows[row]!r} attends to key {col} {self._cols[col]!r}: "
                              f"{self._matrix[row, col]:.4f}")

    def _on_mouse_clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.pin_row(cell[0])
            self.rowPinned.emit(cell[0])

    def _set_readout(self, text: str) -> None:
        self._readout_plain = text  # kept to recolour it when the palette changes
        _background, foreground = plot_colors(self.palette())
        # LabelItem renders HTML; escape so a token such as "<b>" shows as typed.
        safe = html.escape(text, quote=False)
        self.readout.setText(safe, color=foreground.name())

    def readout_text(self) -> str:
        return self.readout.text

    def _restyle(self) -> None:
        background, foreground = plot_colors(self.palette())
        self.setBackground(background)
        color_axes((self.plot.getAxis("left"), self.plot.getAxis("bottom"), self.colorbar.axis), foreground)
        self.pin_outline.setPen(pg.mkPen(foreground, width=2, cosmetic=True))
        self._set_readout(self._readout_plain)  # its colour is baked into the label's HTML
