"""The curves' state for each shown run: its series (growing, smoothed), colour, x-axis facts, markers."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np

from workbench.ui.widgets.charts.catalog import SERIES
from workbench.ui.widgets.charts.data import Marker, RunCurves, SmoothedSeries
from workbench.ui.widgets.charts.xaxis import x_values

# One colour per run, the same in every chart; readable on the light and the dark plot background.
RUN_COLORS = {
    False: ("#1f5fbf", "#c23b22", "#2e8b57", "#8e44ad", "#b8860b", "#008b8b", "#d6336c", "#495057"),
    True: ("#6ea8fe", "#ff7b72", "#56d364", "#d2a8ff", "#e3b341", "#39c5cf", "#f778ba", "#c9d1d9"),
}


class RunState:
    def __init__(self, run_id: Hashable, index: int, curves: RunCurves) -> None:
        self.run_id = run_id
        self.index = index  # its colour
        self.source: RunCurves | None = curves  # what it was made from; None once points are appended
        self.name = curves.name
        self.tokens_per_step = curves.tokens_per_step
        self.clip = curves.clip
        self.markers: list[Marker] = list(curves.markers)
        self.series = {s.key: SmoothedSeries() for s in SERIES}
        for key, (steps, values) in curves.series.items():
            if key in self.series:
                self.series[key].extend(steps, values, curves.walls.get(key))

    def color(self, dark: bool) -> str:
        palette = RUN_COLORS[dark]
        return palette[self.index % len(palette)]

    def start_wall(self) -> float:
        """The run's first recorded time: relative time counts from it."""
        firsts = [s.walls[0] for s in self.series.values() if s.n and np.isfinite(s.walls[0])]
        return min(firsts) if firsts else 0.0

    def has_walls(self) -> bool:
        return any(s.n and np.isfinite(s.walls).any() for s in self.series.values())

    def x_of(self, key: str, mode: str) -> np.ndarray:
        s = self.series[key]
        return x_values(mode, s.steps, s.walls, self.tokens_per_step, self.start_wall() if mode == "relative" else 0.0)

    def marker_x(self, step: float, mode: str) -> float | None:
        """A marker's x: by step it is exact; otherwise the x of the nearest recorded step at or before it."""
        if mode == "step":
            return step
        if mode == "tokens":
            return step * (self.tokens_per_step or 1.0)
        s = self.series["loss"] if self.series["loss"].n else next((v for v in self.series.values() if v.n), None)
        if s is None:
            return None
        i = max(0, int(np.searchsorted(s.steps, step, side="right")) - 1)
        return float(self.x_of_index(s, i, mode))

    def x_of_index(self, s: SmoothedSeries, i: int, mode: str) -> float:
        wall = s.walls[i]
        return float(wall - self.start_wall()) if mode == "relative" else float(wall)

    def append(self, key: str, steps: Iterable[float], values: Iterable[float], walls: Iterable[float] | None) -> int:
        self.source = None  # no longer what `source` holds: drawn again if given it
        return self.series[key].extend(steps, values, walls)
