"""A grid of small linked plots (x linked) holding every shown series of every overlaid run.

One pyqtgraph scene (a GraphicsLayoutWidget) so the whole view exports as one PNG or SVG. Speed:
long series are drawn from min/max pyramids at about two points per pixel (`curve.py`, `pyramid.py`;
short ones through pyqtgraph's clip-to-view and "peak" downsampling), grid lines are filled
rectangles (`axes.py`); curves with more
than `ANTIALIAS_MAX` points are drawn without antialiasing (a zoom at a million antialiased points
froze the window for 10-15 s). Smoothing is computed on the full-resolution data when the data
or the weight changes, never per view, so it does not change with zoom or downsampling.

Streamed points reach the screen at most every `REDRAW_MS`: each redraw auto-ranges the axes and
lays out their tick labels in Python, holding the GIL the training thread needs. Measured with the
small CPU model training in the window (`bench/bench_ui_latency.py`): redrawing at 10 Hz cost 30%
of its steps, at 2 Hz about 6%, at 1 Hz about 3%; a curve that moves once a second reads as live.
While points stream (`set_streaming`), axes and curves are drawn once into pixmaps that Qt reuses
until they change: each redraw repainted every plot, calling the Python `paint` of every axis and
of the stored runs' curves, unchanged, each holding the GIL. Counted with three stored runs and
seven series beside a training run: curve paints 12.7/s -> 2.3/s, their bounding boxes 61/s ->
15/s, axis paints about 12/s -> 0. Not cached otherwise: a zoom renders every item into a new
pixmap (bench_curves' zoom 42 ms median without the cache, 74 ms with it).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QWidget

from workbench.ui.theme import is_dark, plot_colors
from workbench.ui.widgets.charts.axes import FastGridAxis
from workbench.ui.widgets.charts.catalog import (
    CHARTS,
    CHARTS_BY_KEY,
    DEFAULT_SHOWN,
    SERIES,
    SERIES_BY_KEY,
    charts_for,
)
from workbench.ui.widgets.charts.curve import DECIMATE_MIN, DecimatedCurve
from workbench.ui.widgets.charts.data import RunCurves
from workbench.ui.widgets.charts.hover import hover_text
from workbench.ui.widgets.charts.markers import MarkerLayer
from workbench.ui.widgets.charts.plot_setup import FlatRangeViewBox, setup_plot
from workbench.ui.widgets.charts.runs import RunState
from workbench.ui.widgets.charts.styling import ANTIALIAS_MAX, style_series, validation_step_at
from workbench.ui.widgets.charts.xaxis import X_MODES, XAxis
from workbench.ui.widgets.themed_plot import FollowsPalette, color_axes

REDRAW_MS = 1000
LIVE = "live"  # the run id streamed points go to when no run is shown
LIVE_NAME = "this run"
PICK_RADIUS_PX = 12.0
RunsArg = Mapping[Hashable, RunCurves | Mapping[str, tuple[Iterable[float], Iterable[float]]]] | Iterable[Any]


def _as_mapping(runs: RunsArg) -> dict[Hashable, Any]:
    if isinstance(runs, Mapping):
        return dict(runs)
    out: dict[Hashable, Any] = {}
    for run in runs:
        if isinstance(run, RunCurves):
            out[run.run_id] = run
        else:  # another module's record of a run: take what it has
            out[run.run_id] = RunCurves(run.name, run.series, getattr(run, "walls", {}),
                                        getattr(run, "tokens_per_step", None), tuple(getattr(run, "markers", ())),
                                        getattr(run, "clip", None), run.run_id)
    return out


class CurveGrid(FollowsPalette, pg.GraphicsLayoutWidget):
    """objectName `lossPlot`. `hovered(str)` carries the plain-text values under the pointer."""

    hovered = Signal(str)
    pointClicked = Signal(int)  # the step of the validation point of the first run clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.setMinimumHeight(120)  # the training dock must fit beside the playground on a 768 px screen
        self.runs: dict[Hashable, RunState] = {}
        self.shown: set[str] = set(DEFAULT_SHOWN)
        self.weight = 0.6
        self.x_mode = "step"
        self.log_x = False
        self.log_y = {c.key: c.log_y for c in CHARTS}
        self.plots: dict[str, pg.PlotItem] = {}
        self.items: dict[tuple[Hashable, str], tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.xs: dict[tuple[Hashable, str], np.ndarray] = {}  # x arrays as last drawn, for the hover
        self._crosshairs: list[pg.InfiniteLine] = []
        self.markers = MarkerLayer(self)
        self.streaming = False  # points stream in: items are cached as pixmaps (see the module's note)
        self._dirty: set[tuple[Hashable, str]] = set()
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.rebuild()
        self._ready = True

    # ---- data ----------------------------------------------------------------------------------

    def set_runs(self, runs: RunsArg) -> None:
        """Show these runs (in this order: the first gets the first colour): `{run_id: RunCurves}`,
        `{run_id: {series: (steps, values)}}` (named by the id), or a list of objects with `run_id`,
        `name` and `series` (and, optionally, RunCurves' other fields)."""
        self._redraw_timer.stop()
        self._dirty.clear()
        before, self.runs = self.runs, {}
        for index, (run_id, curves) in enumerate(_as_mapping(runs).items()):
            if not isinstance(curves, RunCurves):
                curves = RunCurves(str(run_id), {k: (np.asarray(list(x), float), np.asarray(list(y), float))
                                                 for k, (x, y) in curves.items()})
            kept = before.get(run_id)
            unchanged = kept is not None and kept.source is curves and kept.index == index
            self.runs[run_id] = kept if unchanged and kept is not None else RunState(run_id, index, curves)
        if self.plots and list(self.plots) == [c.key for c in charts_for(self.shown)]:
            self._refill(before)  # the same charts: new curves in the plots there are (a third of the time)
        else:
            self.rebuild()

    def _refill(self, before: dict[Hashable, RunState]) -> None:
        """Replace the items of the runs that changed; a run given the very same curves again (the
        panel caches stored runs) keeps its items: a live run being named, with three stored runs
        of 20k steps beside it, smoothed and drew all four again (about 300 ms of the GUI thread)."""
        for (run_id, key), pair in list(self.items.items()):
            if self.runs.get(run_id) is not before.get(run_id) or key not in self.shown:
                for item in pair:
                    self.plots[SERIES_BY_KEY[key].chart].removeItem(item)
                del self.items[(run_id, key)]
                self.xs.pop((run_id, key), None)
        self._fill()

    def append(self, key: str, steps: Iterable[float], values: Iterable[float],
               walls: Iterable[float] | None = None, run_id: Hashable | None = None) -> None:
        """Add streamed points to `run_id` (default: the first run shown; made if there is none);
        drawn with the next redraw."""
        if run_id is None:
            run_id = next(iter(self.runs), LIVE)
        if run_id not in self.runs:
            self.runs[run_id] = RunState(run_id, len(self.runs), RunCurves(LIVE_NAME, {}))
            self.rebuild()
        if self.runs[run_id].append(key, steps, values, walls):
            self._dirty.add((run_id, key))
            if not self._redraw_timer.isActive():
                self._redraw_timer.start()

    def add_marker(self, run_id: Hashable, marker: object) -> None:
        if run_id in self.runs:
            self.runs[run_id].markers.append(marker)  # type: ignore[arg-type]
            self.runs[run_id].source = None  # it now differs from what it was made from
            self.markers.draw()

    def run_color(self, run_id: Hashable) -> str:
        """The run's colour in every chart (for tables that list the overlaid runs)."""
        return self.runs[run_id].color(is_dark(self.palette()))

    def set_streaming(self, on: bool) -> None:
        """A run streams its points in (True) or no longer does: cache the items or stop caching them."""
        self.streaming = on
        for plot in self.plots.values():
            for side in ("left", "bottom"):
                self._cache(plot.getAxis(side))
        for pair in self.items.values():
            for item in pair:
                self._cache(item.curve)

    def _cache(self, item: QGraphicsItem) -> None:
        mode = QGraphicsItem.CacheMode
        item.setCacheMode(mode.DeviceCoordinateCache if self.streaming else mode.NoCache)

    def _redraw(self) -> None:
        for run_id, key in self._dirty:
            if (run_id, key) in self.items:
                self._set_data(run_id, key)
        self._dirty.clear()
        # Range the axes now rather than in the paint: pyqtgraph would do it while preparing the paint,
        # change the range there, and so paint everything a second time.
        for plot in self.plots.values():
            plot.getViewBox().updateAutoRange()

    def flush(self) -> None:
        """Draw pending streamed points now (tests, exports)."""
        self._redraw_timer.stop()
        self._redraw()

    # ---- settings ------------------------------------------------------------------------------

    def set_shown(self, keys: Iterable[str]) -> None:
        self.shown = {k for k in keys if k in SERIES_BY_KEY}
        self.rebuild()

    def set_smoothing(self, weight: float) -> None:
        self.weight = weight
        for run_id, key in self.items:
            self._set_data(run_id, key)
        self._style()

    def set_x_mode(self, mode: str) -> None:
        self.x_mode = mode if mode in X_MODES else "step"
        if self.x_mode == "wall":
            self.log_x = False
        self.rebuild()

    def set_log(self, chart: str | None, on: bool) -> None:
        """Log scale for one chart's y axis, or (chart None) for the shared x axis."""
        if chart is None:
            self.log_x = on and self.x_mode != "wall"
        else:
            self.log_y[chart] = on
        for key, plot in self.plots.items():
            plot.setLogMode(x=self.log_x, y=self.log_y[key])
        self.markers.draw()
        self.reset_view()

    def reset_view(self) -> None:
        for plot in self.plots.values():
            plot.enableAutoRange()
            plot.getViewBox().updateAutoRange()

    # ---- building ------------------------------------------------------------------------------

    def rebuild(self) -> None:
        self.clear()
        self.plots, self.items, self.xs, self._crosshairs = {}, {}, {}, []
        charts = charts_for(self.shown)
        columns = 1 if len(charts) <= 2 else 2
        first: pg.PlotItem | None = None
        for i, chart in enumerate(charts):
            plot = self.addPlot(row=i // columns, col=i % columns, viewBox=FlatRangeViewBox(),
                                axisItems={"bottom": XAxis(), "left": FastGridAxis("left")})
            self._setup_plot(plot, chart.title, last_row=i // columns == (len(charts) - 1) // columns,
                             lowest=i + columns >= len(charts))
            plot.setLogMode(x=self.log_x, y=self.log_y[chart.key])
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.plots[chart.key] = plot
        self._fill()

    def _fill(self) -> None:
        """Every shown series of every run into the plots there are, then markers, styles, range."""
        for run_id in self.runs:
            for spec in SERIES:
                if spec.key in self.shown and (run_id, spec.key) not in self.items:
                    self._add_items(run_id, spec.key)
        self.markers.draw()
        self._style()
        self.reset_view()

    def _setup_plot(self, plot: pg.PlotItem, title: str, last_row: bool, lowest: bool) -> None:
        setup_plot(plot, title, self.font(), self.x_mode, label=last_row, values=lowest)
        for side in ("left", "bottom"):
            self._cache(plot.getAxis(side))
        line = pg.InfiniteLine(angle=90, movable=False)
        line.setVisible(False)
        plot.addItem(line, ignoreBounds=True)
        self._crosshairs.append(line)

    def _add_items(self, run_id: Hashable, key: str) -> None:
        plot = self.plots[SERIES_BY_KEY[key].chart]
        raw = DecimatedCurve(name=f"{self.runs[run_id].name} {SERIES_BY_KEY[key].label}")
        smooth = DecimatedCurve()
        for item in (raw, smooth):
            self._cache(item.curve)
            plot.addItem(item)
        self.items[(run_id, key)] = (raw, smooth)
        self._set_data(run_id, key)

    def _set_data(self, run_id: Hashable, key: str) -> None:
        run, spec = self.runs[run_id], SERIES_BY_KEY[key]
        series = run.series[key]
        raw, smooth = self.items[(run_id, key)]
        x = run.x_of(key, self.x_mode)
        self.xs[(run_id, key)] = x
        big, long = series.n > ANTIALIAS_MAX, series.n >= DECIMATE_MIN
        raw.set_series(x, series.values, series.raw_pyramid() if long else None, antialias=not big)
        if spec.sparse or self.weight <= 0:
            smooth.set_series(np.empty(0), np.empty(0), None)
        else:
            smooth.set_series(x, series.smooth(self.weight), series.smooth_pyramid(self.weight) if long else None,
                              antialias=not big)

    # ---- looks ---------------------------------------------------------------------------------

    def _restyle(self) -> None:
        self._style()

    def _style(self) -> None:
        background, foreground = plot_colors(self.palette())
        dark = is_dark(self.palette())
        self.setBackground(background)
        for key, plot in self.plots.items():
            color_axes((plot.getAxis("left"), plot.getAxis("bottom")), foreground)
            for side in ("left", "bottom"):
                plot.getAxis(side).set_background(background)
            plot.setTitle(CHARTS_BY_KEY[key].title, size="9pt", color=foreground.name())
        for line in self._crosshairs:
            line.setPen(pg.mkPen(QColor(foreground), width=1, style=pg.QtCore.Qt.PenStyle.DotLine))
        for (run_id, key), (raw, smooth) in self.items.items():
            style_series(self.runs[run_id], key, raw, smooth, weight=self.weight, runs=len(self.runs), dark=dark)
        self.markers.draw()

    # ---- hover ---------------------------------------------------------------------------------

    def _mouse_moved(self, pos: object) -> None:
        for plot in self.plots.values():
            box = plot.getViewBox()
            if box.sceneBoundingRect().contains(pos):
                self.hover_at(box.mapSceneToView(pos).x(), from_view=True)
                return

    def hover_at(self, x: float, *, from_view: bool = False) -> str:
        """Put the crosshair at `x` (in data units; view units when `from_view`) and say the values there."""
        view_x = x if from_view else (np.log10(x) if self.log_x and x > 0 else x)
        data_x = 10 ** x if from_view and self.log_x else x
        for line in self._crosshairs:
            line.setPos(view_x)
            line.setVisible(True)
        text = hover_text(self, float(data_x))
        self.hovered.emit(text)
        return text

    # ---- picking a validation point -------------------------------------------------------------

    def _clicked(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            step = self.step_at(event.scenePos())
            if step is not None:
                self.pointClicked.emit(step)

    def step_at(self, scene_pos: QPointF) -> int | None:
        """The step of the first run's validation point nearest `scene_pos`, within PICK_RADIUS_PX."""
        return validation_step_at(self, scene_pos, PICK_RADIUS_PX)
