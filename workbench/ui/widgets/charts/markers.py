"""Markers on the curves: vertical lines for a run's events, points for checkpoints and gradient spikes,
and a dashed line at the gradient clipping threshold (every gradient norm above it was clipped).

What the store records and so what can be marked: checkpoints (step, val loss; `pinned` when the
store has that column), the run's end (`finished` with "early stopped", `failed` with "became nan" /
"became inf" and its step in the message), every step's gradient norm before clipping, and each
resume point (a `resume` metrics row that `RunRecorder.start` writes at the step it resumed from).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from workbench.ui.theme import is_dark
from workbench.ui.widgets.charts.data import Marker
from workbench.ui.widgets.charts.smoothing import debiased_ema

if TYPE_CHECKING:
    from workbench.ui.widgets.charts.grid import CurveGrid

LINE_KINDS = {"resume": Qt.PenStyle.DashLine, "early_stop": Qt.PenStyle.DashDotLine, "nan_stop": Qt.PenStyle.SolidLine}
POINT_KINDS = {"checkpoint": ("d", 9), "pinned_checkpoint": ("star", 16), "spike": ("t1", 9)}
SPIKE_FACTOR = 4.0  # a gradient norm this many times its recent average is a spike
SPIKE_LIMIT = 200  # the largest ones only: a scatter of thousands of points says nothing


def gradient_spikes(steps: np.ndarray, values: np.ndarray) -> list[Marker]:
    """Steps whose gradient norm is SPIKE_FACTOR times the smoothed norm of the steps before them."""
    if len(values) < 10:
        return []
    before = np.empty_like(values)
    before[0] = np.inf
    before[1:] = debiased_ema(values, 0.9)[:-1]
    ratio = np.where(np.isfinite(values) & (before > 0), values / before, 0.0)
    hits = np.flatnonzero(ratio >= SPIKE_FACTOR)
    if len(hits) > SPIKE_LIMIT:
        hits = np.sort(hits[np.argsort(ratio[hits])[-SPIKE_LIMIT:]])
    return [Marker(float(steps[i]), "spike", f"gradient spike {values[i]:.3g} ({ratio[i]:.0f}x)", "grad_norm",
                   float(values[i])) for i in hits]


class MarkerLayer:
    """Draws every run's markers into the grid's current plots; redrawn whole (they are few)."""

    def __init__(self, grid: CurveGrid) -> None:
        self.grid = grid
        self.items: list[tuple[pg.PlotItem, pg.GraphicsObject]] = []

    def draw(self) -> None:
        for plot, item in self.items:
            plot.removeItem(item)
        self.items = []
        grid, dark = self.grid, is_dark(self.grid.palette())
        for run in grid.runs.values():
            color = QColor(run.color(dark))
            points: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for marker in run.markers:
                x = run.marker_x(marker.step, grid.x_mode)
                if x is None:
                    continue
                if marker.kind in LINE_KINDS:
                    self._lines(x, marker, color)
                elif marker.series is not None and marker.value is not None:
                    chart = "grad_norm" if marker.series == "grad_norm" else "loss"
                    if marker.series in grid.shown or chart == "loss" and "loss" in grid.shown:
                        points.setdefault((chart, marker.kind), []).append((x, marker.value))
            for (chart, kind), xy in points.items():
                self._points(chart, kind, xy, color)
            if run.clip and "grad_norm" in grid.plots:
                self._add("grad_norm", pg.InfiniteLine(pos=self._y("grad_norm", run.clip), angle=0, movable=False,
                                                       pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)))

    def _x(self, x: float) -> float:
        return float(np.log10(x)) if self.grid.log_x and x > 0 else x

    def _y(self, chart: str, y: float) -> float:
        return float(np.log10(y)) if self.grid.log_y.get(chart) and y > 0 else y

    def _add(self, chart: str, item: pg.GraphicsObject) -> None:
        plot = self.grid.plots[chart]
        plot.addItem(item, ignoreBounds=True)
        self.items.append((plot, item))

    def _lines(self, x: float, marker: Marker, color: QColor) -> None:
        pen = pg.mkPen(color, width=1.5, style=LINE_KINDS[marker.kind])
        for i, chart in enumerate(self.grid.plots):
            label = marker.text if i == 0 else None
            line = pg.InfiniteLine(pos=self._x(x), angle=90, movable=False, pen=pen, label=label,
                                   labelOpts={"position": 0.9, "color": color, "anchors": [(1, 0), (1, 0)]})
            self._add(chart, line)

    def _points(self, chart: str, kind: str, xy: list[tuple[float, float]], color: QColor) -> None:
        if chart not in self.grid.plots:
            return
        symbol, size = POINT_KINDS.get(kind, ("o", 8))
        scatter = pg.ScatterPlotItem([self._x(x) for x, _ in xy], [self._y(chart, y) for _, y in xy],
                                     symbol=symbol, size=size, pen=pg.mkPen(color),
                                     brush=pg.mkBrush(color if kind != "checkpoint" else QColor(0, 0, 0, 0)))
        self._add(chart, scatter)
