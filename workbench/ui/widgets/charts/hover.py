"""The hover line: every shown series' value at the pointer's x, for every overlaid run, as plain text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workbench.ui.widgets.charts.catalog import SERIES
from workbench.ui.widgets.charts.xaxis import format_x

if TYPE_CHECKING:
    from workbench.ui.widgets.charts.grid import CurveGrid

_MARKER_PX = 8  # a marker this close to the pointer is named in the hover line


def nearest(xs: np.ndarray, x: float) -> int:
    """Index of the point of sorted `xs` closest to `x`."""
    i = int(np.searchsorted(xs, x))
    if i <= 0:
        return 0
    if i >= len(xs):
        return len(xs) - 1
    return i if abs(xs[i] - x) < abs(x - xs[i - 1]) else i - 1


def _number(v: float) -> str:
    return f"{v:.4g}"


def _run_line(grid: CurveGrid, run_id: object, x: float, tolerance: float) -> str:
    run = grid.runs[run_id]
    parts: list[str] = []
    for spec in SERIES:
        xs = grid.xs.get((run_id, spec.key))
        if spec.key not in grid.shown or xs is None or len(xs) == 0:
            continue
        i = nearest(xs, x)
        series = run.series[spec.key]
        value = float(series.values[i])
        part = f"{spec.label} {_number(value)}"
        if not spec.sparse and grid.weight > 0:
            part += f" (smoothed {_number(float(series.smooth(grid.weight)[i]))})"
        if spec.sparse or grid.x_mode != "step":
            part += f" at step {int(series.steps[i])}"
        if spec.key == "grad_norm" and run.clip and value > run.clip:
            part += " (clipped)"
        parts.append(part)
    for marker in run.markers:
        mx = run.marker_x(marker.step, grid.x_mode)
        if mx is not None and abs(mx - x) <= tolerance:
            parts.append(marker.text)
    return f"{run.name}: " + (", ".join(parts) if parts else "no data here")


def hover_text(grid: CurveGrid, x: float) -> str:
    head = format_x(grid.x_mode, x)
    tolerance = 0.0
    if grid.plots:
        box = next(iter(grid.plots.values())).getViewBox()
        (x0, x1), width = box.viewRange()[0], max(box.width(), 1.0)
        if grid.log_x:
            x0, x1 = 10 ** x0, 10 ** x1
        tolerance = abs(x1 - x0) / width * _MARKER_PX
    lines = [_run_line(grid, run_id, x, tolerance) for run_id in grid.runs]
    return "\n".join([f"{head}  {lines[0]}" if lines else head, *lines[1:]])
