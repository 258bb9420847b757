"""The curves' data: growing arrays per series and one run's curves with its markers.

Points are kept in numpy arrays that grow by doubling, so appending a batch of streamed events (10
times a second) copies nothing but the new values. `RunCurves` is what a caller hands the curves
for one run: `{series: (steps, values)}` plus what the other x axes need (wall-clock time per
point, tokens per step) and the markers. Build one from the store with `from_store.load_run`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from workbench.ui.widgets.charts.pyramid import MinMaxPyramid
from workbench.ui.widgets.charts.smoothing import debiased_ema


def as_array(values: Iterable[float]) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False)
    return np.asarray(list(values), dtype=np.float64)


class Growing:
    """Parallel float arrays (step, value, wall time) that grow by doubling."""

    def __init__(self) -> None:
        self._cols = [np.empty(1024) for _ in range(3)]
        self.n = 0

    def extend(self, steps: Iterable[float], values: Iterable[float], walls: Iterable[float] | None = None) -> int:
        xs, ys = as_array(steps), as_array(values)
        ws = as_array(walls) if walls is not None else np.full(len(xs), np.nan)
        need = self.n + len(xs)
        if need > len(self._cols[0]):
            size = max(need, 2 * len(self._cols[0]))
            self._cols = [np.resize(c, size) for c in self._cols]
        for col, new in zip(self._cols, (xs, ys, ws), strict=True):
            col[self.n:need] = new
        self.n = need
        return len(xs)

    def clear(self) -> None:
        self.n = 0

    @property
    def steps(self) -> np.ndarray:
        return self._cols[0][:self.n]

    @property
    def values(self) -> np.ndarray:
        return self._cols[1][:self.n]

    @property
    def walls(self) -> np.ndarray:
        return self._cols[2][:self.n]


class SmoothedSeries(Growing):
    """A series and its smoothed copy, computed once on the full-resolution data (never per view)."""

    def __init__(self) -> None:
        super().__init__()
        self.smoothed = np.empty(0)
        self.weight = -1.0
        self._raw_pyramid = MinMaxPyramid()
        self._smooth_pyramid = MinMaxPyramid()
        self._smooth_pyramid_weight = -1.0

    def smooth(self, weight: float) -> np.ndarray:
        if weight != self.weight or len(self.smoothed) != self.n:
            self.smoothed = debiased_ema(self.values, weight)
            self.weight = weight
        return self.smoothed

    def clear(self) -> None:
        super().clear()
        self._raw_pyramid.update(self.values, reset=True)
        self._smooth_pyramid_weight = -1.0  # rebuilt at the next call

    def raw_pyramid(self) -> MinMaxPyramid:
        """The values' min/max levels, extended to the points appended since the last call."""
        self._raw_pyramid.update(self.values)
        return self._raw_pyramid

    def smooth_pyramid(self, weight: float) -> MinMaxPyramid:
        """The smoothed values' levels. Smoothing is causal, so appended points leave the earlier
        smoothed values (and their levels) as they were; a new weight rebuilds them."""
        self._smooth_pyramid.update(self.smooth(weight), reset=weight != self._smooth_pyramid_weight)
        self._smooth_pyramid_weight = weight
        return self._smooth_pyramid


@dataclass(frozen=True)
class Marker:
    """An event drawn on the curves: a vertical line (`series` None) or a point on a series."""

    step: float
    kind: str  # resume | early_stop | nan_stop | spike | clip_limit | checkpoint | pinned_checkpoint
    text: str  # plain text, shown in the hover line
    series: str | None = None
    value: float | None = None  # y on that series (a checkpoint's val loss, a spike's grad norm)


@dataclass(frozen=True)
class RunCurves:
    """One run's curves: `series` maps a metric name to (steps, values); `walls` to unix times."""

    name: str
    series: Mapping[str, tuple[np.ndarray, np.ndarray]]
    walls: Mapping[str, np.ndarray] = field(default_factory=dict)
    tokens_per_step: float | None = None
    markers: tuple[Marker, ...] = ()
    clip: float | None = None  # the gradient clipping threshold: grad norms above it were clipped
    run_id: Hashable | None = None  # the key when handed over in a list
