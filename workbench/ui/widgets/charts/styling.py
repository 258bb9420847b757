"""How a series is drawn (pens, dots) and which validation point a click picks, for `CurveGrid`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from workbench.ui.theme import series_colors
from workbench.ui.widgets.charts.catalog import SERIES_BY_KEY
from workbench.ui.widgets.charts.runs import RunState

if TYPE_CHECKING:
    from workbench.ui.widgets.charts.grid import CurveGrid

SYMBOLS_MAX = 2_000  # evaluations drawn as dots up to this many points
ANTIALIAS_MAX = 10_000


def style_series(run: RunState, key: str, raw: pg.PlotDataItem, smooth: pg.PlotDataItem, *, weight: float,
                 runs: int, dark: bool) -> None:
    """Pens (and dots for evaluations) of one run's series among `runs` overlaid runs."""
    color = QColor(run.color(dark))
    if key == "val_loss" and runs == 1:
        color = QColor(series_colors(dark)["val_loss"])  # alone, a run's two losses differ in colour
    if SERIES_BY_KEY[key].sparse:
        raw.setPen(pg.mkPen(color, width=2, style=pg.QtCore.Qt.PenStyle.DashLine if runs > 1
                            else pg.QtCore.Qt.PenStyle.SolidLine))
        if run.series[key].n > SYMBOLS_MAX:  # a dot per point costs seconds at 1M points, and hides the line
            raw.setSymbol(None)
            return
        raw.setSymbol("o")
        raw.setSymbolSize(6)
        raw.setSymbolBrush(pg.mkBrush(color))
        raw.setSymbolPen(pg.mkPen(color))
        return
    faint = QColor(color)
    faint.setAlpha(70 if weight > 0 else 255)  # the raw series stays visible behind the smoothed one
    # 1-pixel pens for long series: Qt strokes wider lines segment by segment (measured: a 1.5 px
    # pen made a 6 x 1M-point redraw several times slower).
    big = run.series[key].n > ANTIALIAS_MAX
    raw.setPen(pg.mkPen(faint, width=1 if weight > 0 or big else 1.5))
    smooth.setPen(pg.mkPen(color, width=1 if big else 1.5))


def validation_step_at(grid: CurveGrid, scene_pos: QPointF, radius_px: float) -> int | None:
    """The step of the first run's validation point nearest `scene_pos`, within `radius_px`."""
    plot, first = grid.plots.get("loss"), next(iter(grid.runs), None)
    if plot is None or first is None or "val_loss" not in grid.shown:
        return None
    box, series = plot.getViewBox(), grid.runs[first].series["val_loss"]
    xs = grid.xs.get((first, "val_loss"), series.steps)
    log_x, log_y = grid.log_x, grid.log_y["loss"]
    best, best_distance = None, radius_px
    for x, y, step in zip(xs, series.values, series.steps, strict=True):
        if not (np.isfinite(x) and np.isfinite(y)) or (log_x and x <= 0) or (log_y and y <= 0):
            continue
        vx, vy = (np.log10(x) if log_x else x), (np.log10(y) if log_y else y)
        point = box.mapViewToScene(QPointF(float(vx), float(vy)))
        distance = float(np.hypot(point.x() - scene_pos.x(), point.y() - scene_pos.y()))
        if distance <= best_distance:
            best, best_distance = int(step), distance
    return best
