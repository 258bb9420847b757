"""A small plot of the learning rate over a run: warmup, then the decay of the chosen schedule.

The values come from `workbench.core.training.schedules.lr_at` (the function the training loop uses), on at
most a few hundred steps plus the corners of the warmup, so a run of millions of steps draws as
fast as one of a hundred.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from workbench.core.base.specs import TrainSpec
from workbench.core.training.schedules import lr_at
from workbench.ui.widgets.charts.plot_setup import fix_tick_space
from workbench.ui.widgets.themed_plot import ThemedPlot

POINTS = 300


def schedule_points(spec: TrainSpec, points: int = POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(steps, learning rates) sampling `spec`'s schedule over steps 0 .. max_steps - 1."""
    last = max(0, spec.max_steps - 1)
    corners = [0, last] + [s for s in (spec.warmup - 1, spec.warmup) if 0 <= s <= last]
    steps = np.unique(np.concatenate([np.linspace(0, last, points).round(), corners]).astype(np.int64))
    return steps, np.array([lr_at(int(step), spec) for step in steps], dtype=np.float64)


class LrCurvePlot(ThemedPlot):
    """objectName `lrCurvePlot`: the learning rate against the optimizer step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("step", "learning rate", parent)
        self.setObjectName("lrCurvePlot")
        self.setMinimumHeight(120)
        self.setMaximumHeight(170)
        item = self.getPlotItem()
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        fix_tick_space(item.getAxis("left"), self.font())  # the first frame had the title across the numbers
        self._curve = item.plot([], [], antialias=True)
        self._steps = np.empty(0)
        self._values = np.empty(0)
        self.theme_ready()

    def show_schedule(self, spec: TrainSpec) -> None:
        self._steps, self._values = schedule_points(spec)
        self._curve.setData(self._steps, self._values)
        item = self.getPlotItem()
        item.setXRange(0, max(1, spec.max_steps), padding=0.02)
        item.setYRange(0, float(self._values.max()) if len(self._values) else 1.0, padding=0.05)

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        return self._steps.copy(), self._values.copy()

    def style_items(self, foreground: QColor, background: QColor, colors: dict[str, str]) -> None:
        color = colors["loss"]
        self._curve.setPen(pg.mkPen(color, width=2))
        self._curve.setFillLevel(0)
        fill = pg.mkColor(color)
        fill.setAlpha(40)
        self._curve.setBrush(pg.mkBrush(fill))
