"""A pyqtgraph plot that follows the application's light or dark palette.

The shared part of every chart in the app: labelled axes without SI prefixes, no context menu, a
faint grid, and background, axes and text recoloured whenever the palette changes. Subclasses
create their items, call `theme_ready()`, and colour their items in `style_items`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from workbench.ui.theme import is_dark, plot_colors, series_colors
from workbench.ui.widgets.qt_paint import QtPaint


def color_axes(axes: Iterable[pg.AxisItem], foreground: QColor) -> None:
    """Lines and tick labels of these axes in the palette's text colour."""
    for axis in axes:
        axis.setPen(foreground)
        axis.setTextPen(foreground)


class FollowsPalette(QtPaint):
    """Mixin for a pyqtgraph widget: calls `_restyle()` on every palette change once `_ready` is set
    (and paints in Qt without the GIL: `QtPaint`).

    Qt's base constructor already sends palette changes, before the subclass's items exist: the
    subclass sets `_ready = True` at the end of its constructor and restyles once itself."""

    _ready = False

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._ready:
            self._restyle()

    def _restyle(self) -> None:
        raise NotImplementedError


class ThemedPlot(FollowsPalette, pg.PlotWidget):
    def __init__(self, x_label: str, y_label: str, parent: QWidget | None = None, *, grid_x: bool = True) -> None:
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=grid_x, y=True, alpha=0.15)
        item.setLabel("bottom", x_label)
        item.setLabel("left", y_label)
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)

    def theme_ready(self) -> None:
        """Call at the end of the subclass's constructor, once its items exist."""
        self._ready = True
        self._restyle()

    def style_items(self, foreground: QColor, background: QColor, colors: dict[str, str]) -> None:
        """Colour the subclass's own items; `colors` are the series colours for this palette."""

    def _restyle(self) -> None:
        background, foreground = plot_colors(self.palette())
        self.setBackground(background)
        item = self.getPlotItem()
        color_axes((item.getAxis("left"), item.getAxis("bottom")), foreground)
        self.style_items(foreground, background, series_colors(is_dark(self.palette())))
