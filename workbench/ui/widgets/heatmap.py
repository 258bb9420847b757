"""An attention heatmap: a [queries x keys] matrix as an image, token labels on both axes.

Row i is what token i attends to (queries down the left, keys along the bottom); the value under
the mouse is read out below the image. The colour scale is fixed to [0, 1] (attention weights) so
maps of different layers and heads compare at a glance.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from workbench.ui.theme import plot_colors
from workbench.ui.widgets.themed_plot import FollowsPalette, color_axes

MAX_TICKS = 40  # before the widget has a size


def tick_stride(count: int, cell_px: float, label_px: float) -> int:
    """Label every n-th token so labels `label_px` apart never overlap on cells `cell_px` wide."""
    if count <= 0:
        return 1
    if cell_px <= 0:  # not laid out yet
        return max(1, int(np.ceil(count / MAX_TICKS)))
    return max(1, int(np.ceil(label_px / cell_px)))


def _ticks(labels: Sequence[str], stride: int) -> list[tuple[float, str]]:
    return [(i + 0.5, label) for i, label in enumerate(labels) if i % stride == 0]


class AttentionHeatmap(FollowsPalette, pg.GraphicsLayoutWidget):
    """objectName `attentionHeatmap`."""

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
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"),
                                        interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.readout = pg.LabelItem(justify="left")
        self._readout_plain = ""
        self.addItem(self.readout, row=1, col=0)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows: list[str] = []
        self._cols: list[str] = []
        self.row_stride = self.col_stride = 1
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.vb.sigResized.connect(self._update_ticks)
        self._ready = True
        self._restyle()
        self.clear_matrix()

    def set_matrix(self, matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str] | None = None) -> None:
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"a heatmap needs a 2-D matrix, got shape {matrix.shape}")
        self._matrix = matrix
        self._rows = [str(s) for s in row_labels]
        self._cols = [str(s) for s in (row_labels if col_labels is None else col_labels)]
        self.image.setImage(matrix, levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(0, 0, matrix.shape[1], matrix.shape[0])
        self.plot.autoRange(padding=0)
        self._update_ticks()
        self._set_readout("Point at a cell to read its weight.")

    def clear_matrix(self) -> None:
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows, self._cols = [], []
        self.image.clear()
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
        widest = max(metrics.horizontalAdvance(label) for label in self._cols) + metrics.averageCharWidth()
        self.row_stride = tick_stride(len(self._rows), cell_h, metrics.height())
        self.col_stride = tick_stride(len(self._cols), cell_w, widest)
        self.plot.getAxis("left").setTicks([_ticks(self._rows, self.row_stride)])
        self.plot.getAxis("bottom").setTicks([_ticks(self._cols, self.col_stride)])

    def matrix(self) -> np.ndarray:
        return self._matrix.copy()

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if not self._matrix.size or not self.plot.sceneBoundingRect().contains(pos):
            return
        point = self.plot.vb.mapSceneToView(pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < self._matrix.shape[0] and 0 <= col < self._matrix.shape[1]:
            self._set_readout(f"{self._rows[row]!r} attends to {self._cols[col]!r}: {self._matrix[row, col]:.3f}")

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
        self._set_readout(self._readout_plain)  # its colour is baked into the label's HTML
