"""Curves at a million points: full redraw, zoom to a 10k-step window, smoothing (issue 13, point 7).

Goals: a full redraw of 6 series x 1M points at most 16 ms, a zoom to a 10k-step window at most
50 ms, smoothing 1M points at most 50 ms. A redraw is `grab()` of the curves grid (the whole scene
painted into a pixmap, as a screen update would); the zoom is `setXRange` on the linked x axis plus
the event processing that follows it, which includes the view's repaint (the bench counts the paints). Run: `QT_QPA_PLATFORM=offscreen python bench/bench_curves.py`.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

POINTS = 1_000_000
SHOWN = ("loss", "lr", "grad_norm", "tokens_per_s", "memory_mb", "val_loss")  # 6 series, each 1M points


def _ms(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


class PaintCounter(QObject):
    """Counts the paint events of the view, so the zoom figure is known to include its repaint."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from workbench.ui.widgets.charts.data import RunCurves
    from workbench.ui.widgets.charts.smoothing import debiased_ema
    from workbench.ui.widgets.charts.view import CurvesView

    rng = np.random.default_rng(0)
    steps = np.arange(1, POINTS + 1, dtype=np.float64)
    series = {key: (steps, np.exp(-steps / 3e5) * (1 + i) + rng.normal(scale=0.05, size=POINTS))
              for i, key in enumerate(SHOWN)}
    view = CurvesView()
    view.resize(1366, 768)
    for key, action in view.series_actions.items():
        action.setChecked(key in SHOWN)
    view.set_smoothing(0.6)
    start = time.perf_counter()
    view.set_runs({1: RunCurves("bench", series)})
    load_ms = (time.perf_counter() - start) * 1e3
    view.show()
    app.processEvents()
    grid = view.grid
    grid.grab()  # the first paint downsamples for this view

    redraw = _ms(grid.grab, 20)
    windows = iter(range(10_000, POINTS - 20_000, 37_000))

    paints = PaintCounter()
    grid.viewport().installEventFilter(paints)

    def zoom() -> None:
        """The range change and the one screen update that follows it (counted: `paints`)."""
        left = next(windows)
        next(iter(grid.plots.values())).setXRange(left, left + 10_000, padding=0)
        app.processEvents()

    zoom_ms = _ms(zoom, 20)
    zoom_paints = paints.count / 20
    grid.reset_view()
    app.processEvents()
    values = series["loss"][1]
    smooth_ms = _ms(lambda: debiased_ema(values, 0.6), 10)
    smooth_999 = _ms(lambda: debiased_ema(values, 0.999), 10)
    print(f"curves: {len(SHOWN)} series x {POINTS:,} points, 1366x768, {len(grid.plots)} linked plots")
    print(f"  load (set_runs, smoothing included): {load_ms:8.1f} ms")
    print(f"  full redraw   median {redraw[0]:6.1f} ms  best {redraw[1]:6.1f} ms  (goal <= 16 ms)")
    print(f"  zoom to 10k   median {zoom_ms[0]:6.1f} ms  best {zoom_ms[1]:6.1f} ms  (goal <= 50 ms; "
          f"{zoom_paints:.1f} paints of the view per zoom)")
    print(f"  smooth 1M w=0.6   median {smooth_ms[0]:6.1f} ms  best {smooth_ms[1]:6.1f} ms  (goal <= 50 ms)")
    print(f"  smooth 1M w=0.999 median {smooth_999[0]:6.1f} ms  best {smooth_999[1]:6.1f} ms")
    view.close()


if __name__ == "__main__":
    main()
