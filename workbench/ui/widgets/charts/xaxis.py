"""The x axis: by step, tokens seen, time since the run began, or wall-clock time.

Tokens seen are `step * batch_size * block_size * grad_accum` from the run's specs (one process;
a `torchrun` run with several processes sees that many times more, which the store does not
record). Times come from the `wall` column the recorder writes with every metric (unix seconds).
"""

from __future__ import annotations

import math
import time

import numpy as np

from workbench.ui.widgets.charts.axes import FastGridAxis

X_MODES = {"step": "step", "tokens": "tokens seen", "relative": "time since start", "wall": "wall-clock time"}
_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600,
               12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400)
_MIN_TICK_PX = 90


def x_values(mode: str, steps: np.ndarray, walls: np.ndarray, tokens_per_step: float | None,
             start_wall: float) -> np.ndarray:
    """The x coordinates of points at `steps` recorded at `walls` under `mode`."""
    if mode == "tokens":
        return steps * (tokens_per_step or 1.0)
    if mode == "relative":
        return walls - start_wall
    if mode == "wall":
        return walls
    return steps


def format_x(mode: str, x: float) -> str:
    """One x value as the hover line says it."""
    if not math.isfinite(x):
        return "-"
    if mode == "tokens":
        return f"{human_number(x)} tokens"
    if mode == "relative":
        return _duration(x)
    if mode == "wall":
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(x))
    return f"step {round(x):,}"


def human_number(x: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:.3g}{suffix}"
    return f"{x:.4g}"


def _duration(seconds: float) -> str:
    sign, s = ("-" if seconds < 0 else ""), abs(int(round(seconds)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"


class XAxis(FastGridAxis):
    """A bottom axis whose ticks read as steps, token counts (k, M, G) or times."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.mode = "step"
        self.enableAutoSIPrefix(False)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.picture = None  # drop pyqtgraph's cached drawing
        self.update()

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        if self.mode not in ("relative", "wall") or self.logMode or maxVal <= minVal:
            return super().tickSpacing(minVal, maxVal, size)
        wanted = (maxVal - minVal) * _MIN_TICK_PX / max(size, 1.0)
        major = next((s for s in _TIME_STEPS if s >= wanted), None)
        if major is None:
            return super().tickSpacing(minVal, maxVal, size)
        minor = next((s for s in reversed(_TIME_STEPS) if s < major and major % s == 0), major)
        offset = -time.localtime(minVal).tm_gmtoff % major if self.mode == "wall" else 0.0
        return [(float(major), float(offset)), (float(minor), float(offset))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        if self.mode == "tokens":
            return [human_number(v) for v in values]
        if self.mode == "relative":
            return [_duration(v) for v in values]
        if self.mode == "wall":
            fmt = "%H:%M:%S" if spacing < 60 else ("%H:%M" if spacing < 86400 else "%m-%d")
            return [time.strftime(fmt, time.localtime(v)) for v in values]
        return [f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}" for v in values]
