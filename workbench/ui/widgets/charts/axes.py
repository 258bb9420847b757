"""Axes that draw their faint grid cheaply, beneath the curves.

Costs measured on the curves grid (5 plots, 10 axes, 1366x768, offscreen raster engine):
- pyqtgraph records each axis into a QPicture and replays it on every paint; replaying the ten
  pictures was about 70% of a full redraw (16 of 23 ms). These axes keep pyqtgraph's draw specs
  (regenerated only when pyqtgraph drops its cache: a range, size or style change) and draw them
  straight onto the view's painter.
- A translucent cosmetic line is stroked pixel by pixel (seven 640-pixel lines: 0.7 ms), and even
  as a 1-pixel rectangle a translucent *vertical* line costs 0.1 ms (one blended span per scanline)
  against 0.002 ms opaque. So every tick and grid line, all horizontal or vertical, is filled as a
  1-pixel rectangle, in the colour the translucent pen gives over the plot's background
  (`set_background`), which is opaque and draws the same pixels.
- For that to look the same where a line crosses a curve, the grid puts the axes beneath each plot's
  view box (z -1; pyqtgraph puts them above it), so curves cover the grid, as in TensorBoard.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture


def _as_rect(pen: QPen, p1: QPointF, p2: QPointF) -> QRectF | None:
    """The 1-pixel rectangle an aliased, solid, hairline pen paints for this line (None: not one)."""
    if pen.style() != Qt.PenStyle.SolidLine or pen.widthF() > 1.0 or not pen.isCosmetic():
        return None
    if p1.x() == p2.x():
        top, bottom = sorted((p1.y(), p2.y()))
        return QRectF(p1.x() - 0.5, top, 1.0, bottom - top + 1.0)
    if p1.y() == p2.y():
        left, right = sorted((p1.x(), p2.x()))
        return QRectF(left, p1.y() - 0.5, right - left + 1.0, 1.0)
    return None


def over(color: QColor, background: QColor) -> QColor:
    """The opaque colour `color` (with its alpha) makes over `background`."""
    a = color.alphaF()
    mix = [round(c * a + b * (1 - a)) for c, b in zip(color.getRgb()[:3], background.getRgb()[:3], strict=True)]
    return QColor(*mix)


# Mantissas a log axis names: pyqtgraph names every one from 2 to 9 ("7·10¹"), and 6 to 9 crowd
# the top of each decade into one smudge.
LOG_LABELLED = (1, 2, 3, 5)


def log_tick_label(exponent: float) -> str:
    """The label of a log-axis tick at 10**exponent: the plain number ("30", "0.002"), or "" where
    it would crowd its neighbours."""
    number = 10.0 ** exponent
    mantissa = number / 10.0 ** math.floor(math.log10(number) + 1e-9)
    return f"{number:g}" if round(mantissa) in LOG_LABELLED else ""


class FastGridAxis(pg.AxisItem):
    _SPECS_READY = QPicture()  # what `self.picture` holds while `_specs` is current

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.background: QColor | None = None
        self._specs: Any = None  # (the plot puts the axis beneath its view box, so curves cover the grid)

    def set_background(self, color: QColor) -> None:
        """The plot's background, over which the translucent grid is drawn opaque."""
        self.background = QColor(color)
        self.update()

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        p.save()
        try:
            if self.style["tickFont"]:
                p.setFont(self.style["tickFont"])
            if self.picture is None:
                self._specs = self.generateDrawSpecs(p)
                self.picture = self._SPECS_READY
            if self._specs is not None:
                self.drawPicture(p, *self._specs)
        finally:
            p.restore()

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [log_tick_label(value + math.log10(scale)) for value in values]

    def drawPicture(self, p: QPainter, axisSpec: Any, tickSpecs: Any, textSpecs: Any) -> None:  # noqa: N802,N803
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # as pyqtgraph draws its ticks: crisp, cheap
        lines = []
        for pen, p1, p2 in tickSpecs:
            rect = _as_rect(pen, p1, p2)
            if rect is None:
                lines.append((pen, p1, p2))
                continue
            color = pen.color()
            if color.alpha() < 255 and self.background is not None:
                color = over(color, self.background)
            p.fillRect(rect, color)
        super().drawPicture(p, axisSpec, lines, textSpecs)
