"""Curves at a million points (issue 13, point 7): min/max pyramids, what a zoom draws, the hover."""

from __future__ import annotations

import numpy as np

from workbench.ui.widgets.charts.curve import DecimatedCurve
from workbench.ui.widgets.charts.data import RunCurves
from workbench.ui.widgets.charts.pyramid import MinMaxPyramid, pixel_edges, visible_indices
from workbench.ui.widgets.charts.view import CurvesView

N = 1_000_000
SPIKE = 123_457


def _noisy(n=N, seed=0):
    y = np.random.default_rng(seed).normal(size=n)
    y[SPIKE] = 50.0
    y[5_000] = np.nan
    return y


def test_the_pyramid_keeps_a_single_sample_spike_at_every_level_and_grows_by_appending():
    y = _noisy()
    pyramid = MinMaxPyramid()
    pyramid.update(y)
    assert len(pyramid.levels) >= 8
    for level in pyramid.levels:
        assert SPIKE in level
        assert np.all(np.diff(level) >= 0)  # x order
    x = np.arange(1, N + 1, dtype=float)
    shown = visible_indices(pyramid, x, y, pixel_edges(1, N, 680, False))
    assert SPIKE in shown and len(shown) <= 2 * 680 + 8
    grown = MinMaxPyramid()
    for end in (3, 300_001, 300_078, N):  # streamed in batches: the same levels as built at once
        grown.update(y[:end])
    assert len(grown.levels) == len(pyramid.levels)
    assert all(np.array_equal(a, b) for a, b in zip(grown.levels, pyramid.levels, strict=True))


def _million_view(qtbot):
    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(1366, 768)
    steps = np.arange(1, N + 1, dtype=float)
    y = _noisy()
    view.set_runs({1: RunCurves("big", {"loss": (steps, y), "grad_norm": (steps, _noisy(seed=1))})})
    view.show()
    qtbot.waitExposed(view)
    return view, y


def test_a_zoomed_view_draws_about_two_points_per_pixel_and_keeps_the_spike(qtbot):
    view, y = _million_view(qtbot)
    grid = view.grid
    raw, smooth = grid.items[(1, "loss")]
    assert isinstance(raw, DecimatedCurve) and isinstance(smooth, DecimatedCurve)
    width = int(grid.plots["loss"].getViewBox().width())
    assert 0 < raw.shown_points() <= 2 * width + 8  # the whole million, zoomed out
    assert np.nanmax(raw.curve.yData) == 50.0
    follower = grid.items[(1, "grad_norm")][0]
    grid.plots["loss"].setXRange(SPIKE - 5_000, SPIKE + 5_000, padding=0)
    qtbot.waitUntil(lambda: raw.curve.xData[0] >= SPIKE - 5_100)
    for item in (raw, smooth, follower):  # the linked plot follows the zoom and is drawn for it too
        assert 0 < item.shown_points() <= 2 * width + 8
        assert item.curve.xData[0] >= SPIKE - 5_100 and item.curve.xData[-1] <= SPIKE + 5_100
    assert np.nanmax(raw.curve.yData) == 50.0
    grid.plots["loss"].setXRange(SPIKE - 50, SPIKE + 50, padding=0)  # closer than a point per pixel: all of them
    qtbot.waitUntil(lambda: raw.curve.xData[0] >= SPIKE - 60)
    np.testing.assert_array_equal(raw.curve.yData, y[int(raw.curve.xData[0]) - 1:int(raw.curve.xData[-1])])
    np.testing.assert_array_equal(raw.getOriginalDataset()[1], y)  # the item keeps the full data


def test_the_hover_reads_the_full_resolution_values_whatever_is_drawn(qtbot):
    view, y = _million_view(qtbot)
    step = 654_321
    y[step - 1] = 7.123456  # one sample no zoomed-out drawing shows by itself
    view.grid.set_runs({1: RunCurves("big", {"loss": (np.arange(1, N + 1, dtype=float), y)})})
    view.set_smoothing(0.0)
    assert "train loss 7.123" in view.grid.hover_at(step)
    assert f"train loss {y[step]:.4g}" in view.grid.hover_at(step + 1)


def test_a_resize_draws_the_curve_again_for_its_new_width(qtbot):
    view, _ = _million_view(qtbot)
    raw = view.grid.items[(1, "loss")][0]
    box = view.grid.plots["loss"].getViewBox()
    qtbot.waitUntil(lambda: box.width() > 400)  # laid out at 1366 px, and the curve drawn for it
    qtbot.waitUntil(lambda: raw.shown_points() > box.width())
    before = raw.shown_points()
    view.resize(500, 400)
    qtbot.waitUntil(lambda: raw.shown_points() < before * 0.7)
    assert raw.shown_points() <= 2 * int(view.grid.plots["loss"].getViewBox().width()) + 8
