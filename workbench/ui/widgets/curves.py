"""Loss curves: train loss and validation loss against the step, cheap to stream into.

pyqtgraph with clip-to-view and automatic (peak) downsampling keeps a million points at a few ms
per frame. Points are kept in numpy arrays that grow by doubling, so appending a batch of events
(10 times a second) copies nothing but the new values.

Streamed points reach the screen at most every `REDRAW_MS`: each redraw auto-ranges the axes and
lays out their tick labels in Python (two paints: the data, then the new range), holding the GIL
the training thread needs. Measured with the small CPU model training in the window
(`bench/bench_ui_latency.py`): redrawing at 10 Hz cost 30% of its steps, at 2 Hz about 6%, at 1 Hz
about 3%; a curve that moves once a second still reads as live.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from workbench.ui.widgets.themed_plot import ThemedPlot

SERIES = {"loss": "train loss", "val_loss": "validation loss"}
REDRAW_MS = 1000


class _Series:
    def __init__(self, curve: pg.PlotDataItem) -> None:
        self.curve = curve
        self.x = np.empty(1024, dtype=np.float64)
        self.y = np.empty(1024, dtype=np.float64)
        self.n = 0
        self.dirty = False  # points added since the last redraw

    def set(self, x: Iterable[float], y: Iterable[float]) -> None:
        self.n = 0
        self.extend(x, y)
        self.redraw()

    def redraw(self) -> None:
        self.curve.setData(self.x[:self.n], self.y[:self.n])
        self.dirty = False

    def extend(self, x: Iterable[float], y: Iterable[float]) -> None:
        xs = np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.float64)
        ys = np.asarray(list(y) if not isinstance(y, np.ndarray) else y, dtype=np.float64)
        need = self.n + len(xs)
        if need > len(self.x):
            size = max(need, 2 * len(self.x))
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n:need] = xs
        self.y[self.n:need] = ys
        self.n = need
        self.dirty = self.dirty or len(xs) > 0


class LossPlot(ThemedPlot):
    """objectName `lossPlot`. Series "loss" (a line) and "val_loss" (a line with dots)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("step", "loss", parent)
        self.setObjectName("lossPlot")
        self.setMinimumHeight(120)  # the training dock must fit beside the playground on a 768 px screen
        item = self.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self._legend = item.addLegend(offset=(-10, 10))
        self._series: dict[str, _Series] = {}
        for name, label in SERIES.items():
            curve = item.plot([], [], name=label, antialias=True)  # downsampling bounds its cost
            self._series[name] = _Series(curve)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self.theme_ready()

    def set_series(self, name: str, steps: Iterable[float], values: Iterable[float]) -> None:
        self._series[name].set(steps, values)

    def append(self, name: str, steps: Iterable[float], values: Iterable[float]) -> None:
        """Add streamed points; they are drawn with the next redraw (at most every REDRAW_MS)."""
        self._series[name].extend(steps, values)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw(self) -> None:
        for s in self._series.values():
            if s.dirty:  # validation points come rarely: do not re-lay out that curve every time
                s.redraw()
        # Range the axes now rather than in the paint: pyqtgraph would do it while preparing the paint,
        # change the range there, and so paint everything a second time.
        self.getPlotItem().getViewBox().updateAutoRange()

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        s = self._series[name]
        return s.x[:s.n].copy(), s.y[:s.n].copy()

    def clear_data(self) -> None:
        self._redraw_timer.stop()
        for s in self._series.values():
            s.set([], [])
        self.getPlotItem().enableAutoRange()

    def style_items(self, foreground: QColor, background: QColor, colors: dict[str, str]) -> None:
        self._series["loss"].curve.setPen(pg.mkPen(colors["loss"], width=1.5))
        val = self._series["val_loss"].curve
        val.setPen(pg.mkPen(colors["val_loss"], width=2))
        val.setSymbol("o")
        val.setSymbolSize(6)
        val.setSymbolBrush(pg.mkBrush(colors["val_loss"]))
        val.setSymbolPen(pg.mkPen(colors["val_loss"]))
        self._legend.setLabelTextColor(foreground)
        self._legend.setBrush(pg.mkBrush(background))
        self._legend.setPen(pg.mkPen(foreground, width=0.5))
        for _sample, label in self._legend.items:
            label.setText(label.text, color=foreground)
