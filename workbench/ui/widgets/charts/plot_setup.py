"""How each small plot of the curves grid looks: grid, axes, title (what keeps its repaints cheap)."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics

from workbench.ui.widgets.charts.xaxis import X_MODES

WIDEST_TICK_LABEL = "-0.00035"  # the y axes' label space: a learning rate; wider labels overflow left


def fix_tick_space(axis: pg.AxisItem, font: QFont) -> None:
    """Room for the widest tick label from the first frame on, and never more: pyqtgraph's own
    fitting widens an axis after drawing its labels once, and again whenever a wider one appears."""
    axis.setStyle(autoExpandTextSpace=False, tickTextWidth=QFontMetrics(font).horizontalAdvance(WIDEST_TICK_LABEL))


def setup_plot(plot: pg.PlotItem, title: str, font: QFont, x_mode: str, *, label: bool, values: bool) -> None:
    """Style `plot` (its x axis an `XAxis` in `x_mode`); `label`: name the x mode under it; `values`:
    numbers under its x axis (the x axis is linked: under each column's lowest plot only, as tick
    text was most of a zoom's repaint)."""
    plot.setMenuEnabled(False)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    plot.setTitle(title, size="9pt")  # a title rather than an axis label: small plots keep their width
    plot.getAxis("left").enableAutoSIPrefix(False)
    # One fixed width for every plot's tick labels: fitted to the labels, live values ("0.0004",
    # "0.00035", "10000") resized the plots, and every curve and axis in them, 5 times a second
    # while a run trained. The plots' columns line up as well.
    fix_tick_space(plot.getAxis("left"), font)
    for side in ("left", "bottom"):
        # Two tick levels, not three: the finest level's grid lines were most of a repaint
        # (measured: 41 of 82 ms per zoom step of the 5-plot grid; 12 ms with two levels).
        plot.getAxis(side).setStyle(maxTickLevel=1)
        plot.getAxis(side).setZValue(-1)  # the grid beneath the curves (pyqtgraph set 0.5: above)
    axis = plot.getAxis("bottom")
    axis.set_mode(x_mode)
    if label:
        plot.setLabel("bottom", X_MODES[x_mode])
    if not values:
        axis.setStyle(showValues=False)


class FlatRangeViewBox(pg.ViewBox):
    """A view box that ranges a flat curve around its value: pyqtgraph gives a zero-height range
    the previous view's height, so a constant learning rate of 0.001 sat on "0" of a -0.5..0.5 axis."""

    def childrenBounds(self, *args: Any, **kwargs: Any) -> list[Any]:  # noqa: N802
        bounds = super().childrenBounds(*args, **kwargs)
        y = bounds[1]
        if y is not None and y[0] == y[1]:
            half = abs(y[0]) * 0.5 or 0.5
            bounds[1] = [y[0] - half, y[1] + half]
        return bounds
