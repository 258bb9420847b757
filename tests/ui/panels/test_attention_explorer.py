"""Attention explorer (issue 15, points 1, 2 and 4): the map's colour scale, zoom labels, hover and
pinned row; the all-heads grid; the head scores tab, and the scores job through the window."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from workbench.core.attention.scores import HeadScores
from workbench.ui.panels.attention.panel import AttentionPanel

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def banded(layers: int = 2, heads: int = 3, size: int = 200) -> np.ndarray:
    """Causal maps spread thinly (weights about 1/size): a fixed 0-1 scale draws them all dark."""
    rng = np.random.default_rng(0)
    w = rng.random((layers, heads, size, size)) * np.tril(np.ones((size, size)))
    w[0, 1] = np.eye(size, k=-1)
    w[0, 1, 0, 0] = 1
    return (w / w.sum(-1, keepdims=True)).astype(np.float16)


def shown(qtbot, weights: np.ndarray) -> AttentionPanel:
    panel = AttentionPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 900)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_attention(weights, [f"t{i}" for i in range(weights.shape[-1])])
    return panel


def scene_point(heatmap, x: float, y: float) -> QPointF:
    return heatmap.plot.vb.mapViewToScene(QPointF(x, y))


def test_each_map_gets_its_own_colour_range_with_power_log_and_shared_options(qtbot):
    panel = shown(qtbot, banded())
    heatmap = panel.heatmap
    panel.head.setCurrentIndex(panel.head.findData(0))
    low, top = heatmap.image.getLevels()
    assert low == 0 and 0.005 < top < 0.2  # not 0-1: a 200-token map's weights are small
    panel.map_view.scale_combo.setCurrentIndex(panel.map_view.scale_combo.findData("log"))
    low, high = heatmap.image.getLevels()
    assert low == pytest.approx(-4) and high == pytest.approx(np.log10(top), rel=1e-3)
    assert heatmap.image.image.max() <= 0 and heatmap.matrix().max() > 0  # drawn in log10; raw kept
    panel.map_view.scale_combo.setCurrentIndex(panel.map_view.scale_combo.findData("power"))
    assert heatmap.image.getLevels()[1] == pytest.approx(np.sqrt(top), rel=1e-3)
    panel.map_view.scale_combo.setCurrentIndex(0)
    panel.head.setCurrentIndex(panel.head.findData(1))  # the previous-token head: all weights are 1
    assert heatmap.image.getLevels()[1] == pytest.approx(1.0)
    panel.map_view.shared.setChecked(True)  # one range for every head of the text
    shared = heatmap.image.getLevels()[1]
    panel.head.setCurrentIndex(panel.head.findData(2))
    assert heatmap.image.getLevels()[1] == shared


def test_labels_appear_as_the_map_is_zoomed_in(qtbot):
    panel = shown(qtbot, banded(size=300))
    heatmap = panel.heatmap
    qtbot.waitUntil(lambda: heatmap.row_stride > 1)
    heatmap.zoom_to(100, 109)
    qtbot.waitUntil(lambda: heatmap.row_stride == 1 and heatmap.col_stride == 1)
    ticks = heatmap.plot.getAxis("left")._tickLevels[0]
    assert [label for _pos, label in ticks][:3] == ["t100", "t101", "t102"] and len(ticks) <= 12


def test_hover_names_both_tokens_and_a_click_pins_the_row(qtbot):
    weights = banded(size=40)
    panel = shown(qtbot, weights)
    heatmap = panel.heatmap
    heatmap.plot.scene().sigMouseMoved.emit(scene_point(heatmap, 3.5, 7.5))
    assert heatmap.readout_text() == f"query 7 't7' attends to key 3 't3': {float(weights[0].mean(0, dtype=np.float32)[7, 3]):.4f}"
    assert panel.map_view.bars.isHidden()
    view_pos = heatmap.mapFromScene(scene_point(heatmap, 2.5, 12.5))
    with qtbot.waitSignal(heatmap.rowPinned) as pinned:
        qtbot.mouseClick(heatmap.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    assert pinned.args == [12] and panel.map_view.pinned == 12
    assert not panel.map_view.bars.isHidden()
    np.testing.assert_allclose(panel.map_view.bars.values, heatmap.matrix()[12])
    assert panel.map_view.pinned_label.text().startswith("Query 12 't12' attends most to ")
    panel.head.setCurrentIndex(panel.head.findData(1))  # another head: the pinned row follows
    np.testing.assert_allclose(panel.map_view.bars.values, np.eye(40, k=-1)[12])


def test_the_grid_shows_every_head_and_a_click_opens_one_in_the_map(qtbot):
    weights = banded(layers=3, heads=4, size=64)
    panel = shown(qtbot, weights)
    grid = panel.overview.grid_view.grid
    assert panel.findChild(type(grid), "attentionGrid") is grid
    panel.tabs.setCurrentWidget(panel.grid_page)
    assert grid.thumbs.shape == (3, 4, 32, 32)  # 64 tokens in blocks of 2: at most 48 pixels a side
    assert grid.image.image.shape[:2] == (3 * (grid.thumbs.shape[-1] + 4), 4 * (grid.thumbs.shape[-1] + 4))
    with qtbot.waitSignal(grid.headClicked) as clicked:
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                         pos=grid.mapFromScene(grid.plot.vb.mapViewToScene(QPointF(2.5, 1.5))))
    assert clicked.args == [1, 2]
    assert panel.tabs.currentWidget() is panel.map_page and panel.layer.value() == 1
    assert panel.head.currentData() == 2
    np.testing.assert_allclose(panel.heatmap.matrix(), weights[1, 2].astype(np.float32))


def test_the_grid_colours_and_sorts_heads_by_a_score(qtbot):
    panel = shown(qtbot, banded(layers=2, heads=3, size=32))
    view = panel.overview.grid_view
    panel.tabs.setCurrentWidget(panel.grid_page)
    view.score_combo.setCurrentIndex(view.score_combo.findData("previous_token"))
    view.sort.setChecked(True)
    assert view.grid.order[0, 0] == 1  # layer 0 head 1 is the previous-token head: ranked first
    view.score_combo.setCurrentIndex(view.score_combo.findData("induction"))
    assert "Scores tab" in view.hint.text() and view.grid.score is None
    panel.show_head_scores(scores_with_induction_at(1, 2))
    assert view.grid.score is not None and view.grid.order[1, 0] == 2 and view.hint.text() == ""


def scores_with_induction_at(layer: int, head: int) -> HeadScores:
    induction = np.full((2, 3), 0.02, dtype=np.float32)
    induction[layer, head] = 0.8
    rest = np.full((2, 3), 0.1, dtype=np.float32)
    return HeadScores(induction=induction, previous_token=rest, first_token=rest, entropy=rest, period=32)


def test_the_scores_tab_points_out_the_induction_heads(qtbot):
    panel = shown(qtbot, banded(layers=2, heads=3, size=32))
    view = panel.overview.scores_view
    assert panel.findChild(type(view), "headScores") is view
    panel.show_head_scores(scores_with_induction_at(1, 2))
    assert view.summary.text().startswith("Induction heads: layer 1 head 2 (0.80).")
    assert view.map.marked == [(1, 2)] and view.map.values[1, 2] == pytest.approx(0.8)
    view.score_combo.setCurrentIndex(view.score_combo.findData("entropy"))
    assert view.map.marked == [] and view.map.values[0, 0] == pytest.approx(0.1)
    view.headClicked.emit(1, 2)
    assert panel.tabs.currentWidget() is panel.map_page and panel.head.currentData() == 2


def test_scores_need_a_run_with_a_checkpoint(qtbot, project):
    from workbench.core.project.store import ProjectStore

    panel = AttentionPanel()
    qtbot.addWidget(panel)
    button = panel.overview.scores_view.compute_button
    assert not button.isEnabled() and "Train a run first" in button.toolTip()
    with ProjectStore.open(project) as store:
        panel.set_project(store)
        assert not button.isEnabled() and "has no checkpoint yet" in button.toolTip()
        assert not panel.request_head_scores()


@pytest.mark.slow
def test_the_window_computes_head_scores_of_a_real_run(qtbot, window, tmp_path):
    from cli_helpers import make_one_run_project

    root = make_one_run_project(tmp_path / "p.wbproj")
    assert window.open_project(root)
    panel = window.panels.attention
    qtbot.waitUntil(lambda: panel.overview.scores_view.compute_button.isEnabled(), timeout=60_000)
    panel.text_edit.setPlainText("the king speaks to his men")
    assert panel.request_head_scores()
    qtbot.waitUntil(lambda: panel.overview.scores_view.scores is not None, timeout=120_000)
    scores = panel.overview.scores_view.scores
    assert scores.induction.shape == (2, 2) and scores.text_tokens == 26
    assert "Induction on" in panel.overview.scores_view.summary.text()
    shutil.rmtree(root)


def test_scores_with_no_text_take_the_runs_own_text_from_its_snapshot(qtbot, window, tmp_path):
    from cli_helpers import make_one_run_project

    root = make_one_run_project(tmp_path / "p.wbproj")
    assert window.open_project(root)
    panel = window.panels.attention
    qtbot.waitUntil(lambda: panel.overview.scores_view.compute_button.isEnabled(), timeout=60_000)
    probe = panel.snapshots.probe_text()
    assert probe.startswith("the king speaks")  # the validation text the run's snapshots show
    panel.text_edit.setPlainText("")
    requested: list[str] = []
    panel.headScoresRequested.connect(lambda _run, _step, text: requested.append(text))
    assert panel.request_head_scores()
    assert requested == [probe] and panel.text_edit.toPlainText() == probe
