"""pyqtgraph views paint in Qt's C++ code without the GIL, and still range their axes before painting."""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QGraphicsPathItem

from workbench.ui.widgets.qt_paint import QtPaint


class _QtPaintedPlot(QtPaint, pg.PlotWidget):
    pass


def _heavy_plot(cls: type, qtbot) -> pg.PlotWidget:
    plot = cls()
    qtbot.addWidget(plot)
    # A Qt item (no Python `paint`): about 100 ms a repaint, all of it in Qt's code.
    ys = np.random.default_rng(0).random(300_000)
    path = QGraphicsPathItem(pg.arrayToQPath(np.arange(ys.size, dtype=float), ys))
    path.setPen(pg.mkPen("k", width=0))  # a hairline, as the curves are drawn
    plot.getPlotItem().addItem(path)
    plot.resize(800, 500)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


class _QuitAfterPaints(QObject):
    """Ends `loop` once the watched widget has had `paints` paint events."""

    def __init__(self, loop: QEventLoop, paints: int) -> None:
        super().__init__()
        self.loop, self.left = loop, paints

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.left -= 1
            if self.left == 0:
                QTimer.singleShot(0, self.loop.quit)  # after this paint
        return False


def _longest_stall(plot: pg.PlotWidget, paints: int = 3) -> tuple[float, float]:
    """(longest time a second Python thread could not run while the view repaints `paints` times
    without pause, the time of one more paint), in seconds."""
    stall, stop = [0.0], threading.Event()
    loop = QEventLoop()
    painted = _QuitAfterPaints(loop, paints)
    plot.viewport().installEventFilter(painted)

    def spin() -> None:  # every loop needs the GIL: a gap is a time the GUI thread held it
        last = time.perf_counter()
        while not stop.is_set():
            now = time.perf_counter()
            stall[0], last = max(stall[0], now - last), now

    repaint = QTimer()
    repaint.setInterval(0)
    repaint.timeout.connect(plot.viewport().update)  # a C++ slot: no Python between the paints
    thread = threading.Thread(target=spin)
    thread.start()
    try:
        repaint.start()
        QTimer.singleShot(60_000, loop.quit)  # a safety net: the paints end it long before
        loop.exec()
    finally:
        repaint.stop()
        stop.set()
        thread.join()
    assert painted.left <= 0  # the view did repaint all along
    start = time.perf_counter()
    plot.viewport().repaint()
    return stall[0], time.perf_counter() - start


def test_a_repaint_lets_other_python_threads_run(qtbot):
    stall, paint = _longest_stall(_heavy_plot(_QtPaintedPlot, qtbot))
    assert paint > 0.03  # a heavy paint ...
    assert stall < paint / 3, (stall, paint)  # ... during which the other thread kept running
    stall, paint = _longest_stall(_heavy_plot(pg.PlotWidget, qtbot))  # pyqtgraph's paintEvent is Python
    assert stall > paint / 2, (stall, paint)  # it held the GIL for the whole paint


def test_the_axes_follow_new_data_before_the_paint(qtbot):
    plot = _QtPaintedPlot()
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitExposed(plot)
    plot.getPlotItem().plot([0, 10], [100, 200])  # pyqtgraph ranges the view while preparing a paint
    qtbot.waitUntil(lambda: plot.getPlotItem().viewRange()[1][1] >= 200, timeout=2000)
    (x0, x1), (y0, y1) = plot.getPlotItem().viewRange()
    assert x0 <= 0 and x1 >= 10 and y0 <= 100
