"""The curves widget (ui/widgets/charts): every series, smoothing, x axes, log scales, hover, export, markers."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from workbench.core.base.events import EvalFinished, StepLogged
from workbench.core.project.store import ProjectStore, now_iso
from workbench.ui.widgets import plain_text
from workbench.ui.widgets.charts.catalog import SERIES
from workbench.ui.widgets.charts.data import Marker, RunCurves
from workbench.ui.widgets.charts.from_store import load_run
from workbench.ui.widgets.charts.live import live_points
from workbench.ui.widgets.charts.smoothing import debiased_ema
from workbench.ui.widgets.charts.view import CurvesView


def tensorboard_smoothing(values, weight):
    """TensorBoard's resmoothDataset (vz_line_chart2/line-chart.ts), line for line."""
    last, count, out = 0.0, 0, []
    constant = all(v == values[0] for v in values)
    for v in values:
        if constant or not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out.append(last / (1 - weight ** count))
    return np.array(out)


@pytest.mark.parametrize("weight", [0.0, 0.05, 0.6, 0.9, 0.99, 0.999])
def test_smoothing_is_tensorboards(weight):
    rng = np.random.default_rng(1)
    y = np.linspace(6, 2, 30_000) + rng.normal(size=30_000)
    y[[3, 900, 20_000]] = [np.nan, np.inf, np.nan]
    ours, theirs = debiased_ema(y, weight), tensorboard_smoothing(list(y), weight)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-11, atol=1e-11)
    assert np.array_equal(debiased_ema(np.full(5, 2.5), weight), np.full(5, 2.5))  # TensorBoard #786


def _run(n=2000, name="a", tokens=64.0, wall0=1_700_000_000.0):
    steps = np.arange(1, n + 1, dtype=float)
    series = {s.key: (steps, np.abs(np.sin(steps / 50)) + 1 + i) for i, s in enumerate(SERIES) if not s.sparse}
    series["val_loss"] = (steps[::500], np.linspace(3, 2, len(steps[::500])))
    series["val_ppl"] = (steps[::500], np.exp(np.linspace(3, 2, len(steps[::500]))))
    walls = {k: wall0 + 2.0 * x for k, (x, _) in series.items()}
    return RunCurves(name, series, walls, tokens, (Marker(1500, "early_stop", "early stop at step 1500"),), clip=2.0)


def _view(qtbot):
    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(1366, 600)
    return view


def test_every_recorded_series_can_be_shown_and_the_choice_is_remembered(qtbot):
    view = _view(qtbot)
    view.set_runs({1: _run()})
    for action in view.series_actions.values():
        action.setChecked(True)
    assert set(view.grid.plots) == {"loss", "ppl", "lr", "grad_norm", "tokens_per_s", "memory_mb"}
    view.series_actions["lr"].setChecked(False)
    view.series_actions["memory_mb"].setChecked(False)
    again = _view(qtbot)
    assert {k for k, a in again.series_actions.items() if a.isChecked()} == {
        "loss", "val_loss", "val_ppl", "grad_norm", "tokens_per_s"}
    assert set(again.grid.plots) == {"loss", "ppl", "grad_norm", "tokens_per_s"}
    plots = list(again.grid.plots.values())
    assert all(p.getViewBox().linkedView(0) is plots[0].getViewBox() for p in plots[1:])  # x linked


def test_smoothing_runs_on_the_full_data_and_keeps_the_raw_curve_faint(qtbot):
    view = _view(qtbot)
    view.set_runs({1: _run(50_000)})
    view.smoothing.setValue(900)
    raw, smooth = view.grid.items[(1, "loss")]
    values = view.grid.runs[1].series["loss"].values
    np.testing.assert_array_equal(smooth.getOriginalDataset()[1], debiased_ema(values, 0.9))
    assert raw.opts["pen"].color().alpha() < 255 and smooth.opts["pen"].color().alpha() == 255
    view.grid.plots["loss"].setXRange(1000, 2000, padding=0)  # zooming in does not recompute it
    np.testing.assert_array_equal(smooth.getOriginalDataset()[1], debiased_ema(values, 0.9))
    assert _view(qtbot).smoothing.value() == 900  # remembered


def test_big_series_are_clipped_downsampled_and_not_antialiased(qtbot):
    view = _view(qtbot)
    view.set_runs({1: _run(200_000), 2: _run(100, "small")})
    for plot in view.grid.plots.values():
        assert plot.ctrl.clipToViewCheck.isChecked() and plot.ctrl.autoDownsampleCheck.isChecked()
        assert plot.ctrl.peakRadio.isChecked()
    assert view.grid.items[(1, "loss")][0].opts["antialias"] is False
    assert view.grid.items[(2, "loss")][0].opts["antialias"] is True


def test_x_axis_by_tokens_and_time_and_log_scales(qtbot):
    view = _view(qtbot)
    view.set_runs({1: _run(1000, tokens=64.0)})
    view.x_axis.setCurrentIndex(view.x_axis.findData("tokens"))
    assert view.grid.xs[(1, "loss")][-1] == 1000 * 64.0
    view.x_axis.setCurrentIndex(view.x_axis.findData("relative"))
    assert view.grid.xs[(1, "loss")][0] == 0.0 and view.grid.xs[(1, "loss")][-1] == 2.0 * 999
    assert view.grid.hover_at(60.0).startswith("1:00")
    view.log_actions["loss"].setChecked(True)
    view.log_actions[None].setChecked(True)
    assert view.grid.plots["loss"].ctrl.logYCheck.isChecked() and view.grid.plots["lr"].ctrl.logXCheck.isChecked()
    assert not view.grid.plots["lr"].ctrl.logYCheck.isChecked()
    assert _view(qtbot).grid.log_y["loss"] is True  # remembered


def test_hover_names_every_shown_series_of_every_run_and_colours_are_per_run(qtbot):
    view = _view(qtbot)
    view.set_runs({7: _run(name="first"), 9: _run(name="second")})
    text = view.grid.hover_at(1500)
    lines = text.splitlines()
    assert lines[0].startswith("step 1,500") and "first:" in lines[0] and lines[1].startswith("second:")
    for label in ("train loss", "validation loss", "learning rate", "gradient norm"):
        assert all(label in line for line in lines)
    assert "early stop at step 1500" in lines[0]
    assert view.hover.text() == text
    colors = {run: {QColor(view.grid.items[(run, k)][1].opts["pen"].color()).name() for k in ("loss", "lr")}
              for run in (7, 9)}
    assert len(colors[7]) == 1 and len(colors[9]) == 1 and colors[7] != colors[9]
    assert view.run_color(9) in colors[9]


def test_export_png_svg_csv_and_an_unwritable_folder_says_why(qtbot, tmp_path, monkeypatch):
    view = _view(qtbot)
    view.set_runs({1: _run(300)})
    view.show()
    assert view.export_to(tmp_path / "c.png", "png") and (tmp_path / "c.png").stat().st_size > 1000
    assert view.export_to(tmp_path / "c.svg", "svg") and "<svg" in (tmp_path / "c.svg").read_text()
    assert view.export_to(tmp_path / "c.csv", "csv")
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert {r["series"] for r in rows} == {"loss", "val_loss", "lr", "grad_norm"} and rows[0]["run"] == "a"
    shown = []
    monkeypatch.setattr(plain_text, "exec_box", lambda box: shown.append((box.text(), box.textFormat())))
    taken = tmp_path / "taken.csv"
    taken.mkdir()  # a folder where the file should go: unwritable even for root (the tests may run as root)
    assert not view.export_to(taken, "csv")
    assert not view.export_to(tmp_path / "missing" / "c.png", "png")
    assert "Could not write" in shown[0][0] and "does not exist" in shown[1][0]
    assert all(fmt == plain_text.Qt.TextFormat.PlainText for _, fmt in shown)


def test_streamed_events_fill_every_series_and_coalesce_into_one_redraw(qtbot):
    view = _view(qtbot)
    events = [StepLogged(step=s, loss=5 - s / 10, lr=1e-3, grad_norm=0.5, tokens_per_s=900.0, memory_mb=12.0,
                         elapsed_s=s * 0.1) for s in range(1, 11)]
    events.append(EvalFinished(step=10, val_loss=4.2, val_ppl=66.7))
    for name, (steps, values, walls) in live_points(events, now=1000.0).items():
        view.append(name, steps, values, walls)
    assert list(view.series("tokens_per_s")[1]) == [900.0] * 10 and list(view.series("val_ppl")[1]) == [66.7]
    assert view.grid.runs["live"].series["loss"].walls[-1] == 1000.0
    raw = view.grid.items[("live", "loss")][0]
    assert len(raw.getOriginalDataset()[0] or []) == 0  # drawn with the next redraw, not at once
    qtbot.waitUntil(lambda: raw.getOriginalDataset()[0] is not None and len(raw.getOriginalDataset()[0]) == 10)


def _store_with_run(path):
    store = ProjectStore.create(path)
    run = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {"block_size": 32},
                                "train_spec": {"batch_size": 4, "grad_accum": 2, "grad_clip": 1.0},
                                "status": "finished", "step": 400, "dir": "runs/r", "created": now_iso(),
                                "message": "early stopped"})
    with store.transaction() as conn:
        for step in range(1, 401):
            norm = 30.0 if step == 300 else 0.8
            for name, value in (("loss", 3 - step / 400), ("grad_norm", norm)):
                conn.execute("INSERT INTO metrics (run_id, step, name, value, wall) VALUES (?, ?, ?, ?, ?)",
                             (run, step, name, value, 100.0 + step))
        conn.execute("INSERT INTO metrics (run_id, step, name, value, wall) VALUES (?, 200, 'val_loss', 2.6, 300)",
                     (run,))
        conn.execute("INSERT INTO checkpoints (run_id, step, dir, sha256, val_loss, created) "
                     "VALUES (?, 200, 'runs/r/checkpoints/200', '0', 2.6, ?)", (run, now_iso()))
    return store, run


def test_markers_and_x_facts_come_from_the_store(qtbot, tmp_path):
    store, run = _store_with_run(tmp_path / "p.wbproj")
    with store:
        curves = load_run(store, run)
    assert curves.tokens_per_step == 4 * 32 * 2 and curves.clip == 1.0
    kinds = {(m.kind, m.step) for m in curves.markers}
    assert kinds == {("checkpoint", 200.0), ("early_stop", 400.0), ("spike", 300.0)}
    assert curves.walls["loss"][0] == 101.0
    view = _view(qtbot)
    view.set_runs([curves])
    assert "(clipped)" in view.grid.hover_at(300) and "gradient spike" in view.grid.hover_at(300)
    assert "checkpoint at step 200" in view.grid.hover_at(200)


def test_a_nan_stop_is_marked_at_its_step():
    from workbench.ui.widgets.charts.from_store import end_markers

    (marker,) = end_markers({"status": "failed", "step": 12, "message": "the loss became nan at step 13; lower"})
    assert (marker.kind, marker.step) == ("nan_stop", 13.0)


def test_clicking_a_validation_point_gives_its_step(qtbot):
    view = _view(qtbot)
    view.set_runs({1: _run(2000)})
    view.show()
    qtbot.waitExposed(view)
    box = view.grid.plots["loss"].getViewBox()
    from PySide6.QtCore import QPointF

    x, y = view.grid.runs[1].series["val_loss"].steps[2], view.grid.runs[1].series["val_loss"].values[2]
    assert view.grid.step_at(box.mapViewToScene(QPointF(x, y))) == int(x)


def test_runs_given_the_same_curves_again_keep_their_items_and_changed_ones_are_redrawn(qtbot):
    view = _view(qtbot)
    stored, live = _run(name="stored"), _run(name="live")
    view.set_runs({1: live, 2: stored})
    kept = view.grid.items[(2, "loss")]
    view.set_runs({3: _run(name="named"), 2: stored})  # the live run named; the stored one unchanged
    assert view.grid.items[(2, "loss")] is kept
    assert (1, "loss") not in view.grid.items and (3, "loss") in view.grid.items
    view.set_runs({2: stored, 3: _run(name="named")})  # its place (so its colour) changed: drawn again
    assert view.grid.items[(2, "loss")] is not kept
    drawn = sum(isinstance(item, type(kept[0])) for plot in view.grid.plots.values() for item in plot.items)
    assert drawn == 2 * len(view.grid.items)  # raw and smoothed per run and series: nothing left behind


def test_the_grid_is_drawn_opaque_beneath_the_curves_in_the_colour_its_faint_pen_gives(qtbot):
    from PySide6.QtCore import QPointF

    from workbench.ui.widgets.charts.axes import over

    assert over(QColor(0, 0, 0, 51), QColor(255, 255, 255)).getRgb() == (204, 204, 204, 255)
    view = _view(qtbot)
    view.show()
    steps = np.arange(1, 2001, dtype=float)
    view.set_runs({1: RunCurves("flat", {"memory_mb": (steps, np.full(2000, 800.0))})})
    for key, action in view.series_actions.items():
        action.setChecked(key == "memory_mb")
    grid = view.grid
    plot = grid.plots["memory_mb"]
    grid.flush()
    QApplication.processEvents()
    axis = plot.getAxis("left")
    assert axis.background == grid.backgroundBrush().color()
    assert 800.0 in [v for _spacing, values in axis.tickValues(*plot.viewRange()[1], 400) for v in values]
    image = grid.grab().toImage()
    curve = QColor(grid.items[(1, "memory_mb")][1].opts["pen"].color())
    # a grid line lies exactly under the flat curve at 800: the curve, drawn over it, shows there
    point = grid.mapFromScene(plot.getViewBox().mapViewToScene(QPointF(1000.0, 800.0)))
    around = [QColor(image.pixel(point.x(), point.y() + dy)) for dy in (-1, 0, 1)]
    assert min(sum(abs(a - b) for a, b in zip(c.getRgb()[:3], curve.getRgb()[:3], strict=True)) for c in around) < 40


def test_the_hover_readout_keeps_its_height_and_scrolls_so_the_plots_keep_theirs(qtbot):
    from PySide6.QtWidgets import QScrollArea

    view = _view(qtbot)
    view.show()
    view.set_runs({i: _run(name=f"run {i}") for i in range(4)})
    QApplication.processEvents()
    area = view.findChild(QScrollArea, "curveHoverArea")
    plot_height = view.grid.height()
    text = view.grid.hover_at(1500)
    QApplication.processEvents()
    assert view.hover.text() == text and len(text.splitlines()) == 4  # every run is still read out
    assert view.grid.height() == plot_height and area.widget() is view.hover
    assert view.hover.sizeHint().height() > area.height()  # more than it shows: it scrolls


def test_a_constant_learning_rate_is_ranged_around_its_value(qtbot):
    view = _view(qtbot)
    steps = np.arange(0, 2000, 100.0)
    view.set_runs({1: {"loss": (steps, 3.0 - steps / 1000), "lr": (steps, np.full_like(steps, 1e-3))}})
    low, high = view.grid.plots["lr"].getViewBox().viewRange()[1]
    assert 0 < low < 1e-3 < high < 2e-3  # pyqtgraph's own range for a flat line: -0.5 .. 0.5


def test_log_axes_name_plain_numbers_and_leave_the_crowded_ones_blank():
    from workbench.ui.widgets.charts.axes import FastGridAxis

    axis = FastGridAxis("left")
    axis.setLogMode(y=True)
    values = [math.log10(v) for v in (2, 3, 5, 7, 9, 10, 20, 30, 0.002, 100_000)]
    assert axis.tickStrings(values, 1.0, 1.0) == ["2", "3", "5", "", "", "10", "20", "30", "0.002", "100000"]
