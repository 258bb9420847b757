"""Streaming into the loss plot: points are kept at once, drawn at most every REDRAW_MS."""

from __future__ import annotations

from workbench.ui.widgets.curves import REDRAW_MS, LossPlot


def test_streamed_points_are_coalesced_into_one_redraw(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    curve = plot._series["loss"].curve
    draws = []
    curve.sigPlotChanged.connect(lambda *_: draws.append(1))
    for step in range(1, 51):
        plot.append("loss", [step], [5.0 - step / 50])
    assert len(plot.series("loss")[0]) == 50  # kept at once
    assert draws == []  # not drawn yet
    qtbot.waitUntil(lambda: len(draws) >= 1, timeout=REDRAW_MS * 10)
    qtbot.wait(REDRAW_MS // 2)
    assert len(draws) == 1
    x, y = curve.getData()
    assert len(x) == 50 and y[-1] == 4.0


def test_loading_a_stored_series_draws_at_once(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_series("val_loss", [100, 200], [2.5, 2.1])
    x, _ = plot._series["val_loss"].curve.getData()
    assert list(x) == [100, 200]
