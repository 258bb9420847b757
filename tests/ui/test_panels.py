"""Panels on their own: stored attention snapshots, plain-text output, curves and heatmap widgets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from workbench.core.base.events import EvalFinished, StepLogged, TokenGenerated
from workbench.core.base.specs import SampleSpec
from workbench.core.project.store import ProjectStore, now_iso
from workbench.ui.panels.attention.panel import AttentionPanel
from workbench.ui.panels.dataset.panel import DatasetPanel
from workbench.ui.panels.playground.panel import PlaygroundPanel
from workbench.ui.panels.training.panel import TrainingPanel
from workbench.ui.widgets.forms import human_count

pytestmark = [pytest.mark.qt_log_level_fail("WARNING")]


def test_attention_panel_shows_a_saved_snapshot(qtbot, project):
    store = ProjectStore.open(project)
    run = store.get_run("tiny-gpt")
    folder = store.path(run["dir"]) / "attention"
    folder.mkdir(parents=True)
    weights = np.random.default_rng(0).random((2, 4, 5, 5)).astype(np.float16)
    np.savez_compressed(folder / "100.npz", weights=weights, tokens=np.asarray(list("To·be"), dtype=str))
    store.insert("attention_snapshots", {"run_id": run["id"], "step": 100, "path": f"{run['dir']}/attention/100.npz",
                                         "probe_text": "To be", "created": now_iso()})
    panel = AttentionPanel()
    qtbot.addWidget(panel)
    panel.set_project(store)
    panel.run.setCurrentIndex(panel.run.findData("tiny-gpt"))
    assert panel.snapshot.currentText() == "step 100"
    assert panel.head.count() == 5  # mean + 4 heads
    np.testing.assert_allclose(panel.heatmap.matrix(), weights[0].astype(np.float32).mean(axis=0), rtol=1e-5)
    panel.layer.setValue(1)
    panel.head.setCurrentIndex(panel.head.findData(2))
    np.testing.assert_allclose(panel.heatmap.matrix(), weights[1, 2].astype(np.float32), rtol=1e-5)
    store.close()


def test_attention_panel_rejects_a_mismatched_map(qtbot):
    from workbench.core.base.errors import WorkbenchError

    panel = AttentionPanel()
    qtbot.addWidget(panel)
    with pytest.raises(WorkbenchError, match="cannot be shown"):
        panel.show_attention(np.zeros((1, 1, 3, 3)), ["a", "b"])


def test_playground_output_is_plain_text(qtbot):
    panel = PlaygroundPanel()
    qtbot.addWidget(panel)
    panel.begin_output("<i>Q:</i>")
    panel.add_events([TokenGenerated(sample=0, index=0, token_id=1, text=" <b>", prob=0.1, logprob_total=-1),
                      TokenGenerated(sample=1, index=0, token_id=2, text="&amp;", prob=0.1, logprob_total=-1)])
    assert panel.output.toPlainText() == "<i>Q:</i> <b>\n\n--- sample 2 ---\n<i>Q:</i>&amp;"


def _token(index: int, text: str) -> TokenGenerated:
    return TokenGenerated(sample=0, index=index, token_id=index, text=text, prob=0.5, logprob_total=-1.0)


@pytest.mark.parametrize(("texts", "outcome", "summary"), [
    (["a", "b", "c"], "finished", "3 tokens."),
    ([""], "finished", "1 token: the model ended the text with its end-of-text token."),
    (["a", "b"], "stopped", "Stopped after 2 tokens."),
])
def test_playground_summary_says_how_generation_ended(qtbot, texts, outcome, summary):
    panel = PlaygroundPanel()
    qtbot.addWidget(panel)
    panel.max_tokens.setValue(3)
    panel.begin_output("Q:")
    panel.add_events([_token(i, t) for i, t in enumerate(texts)])
    panel.finish_output(outcome)
    assert panel.summary.text() == summary
    panel.begin_output("again")
    assert panel.summary.text() == ""


def test_playground_seed_random_or_fixed(qtbot):
    panel = PlaygroundPanel()
    qtbot.addWidget(panel)
    assert panel.seed.text() == "random" and panel.sample_spec().seed is None
    panel.seed.setValue(7)
    assert panel.sample_spec().seed == 7


def test_playground_samples_with_the_command_lines_defaults(qtbot):
    from workbench.cli import build_parser
    from workbench.commands.inspect import _sample_spec

    panel = PlaygroundPanel()
    qtbot.addWidget(panel)
    defaults = SampleSpec()
    assert replace(panel.sample_spec(), seed=None) == defaults  # temperature 1.0, not a GUI-only 0.8
    args = build_parser().parse_args(["generate", "p.wbproj", "--run", "r", "--prompt", "Once"])
    assert replace(_sample_spec(args), seed=None) == defaults
    generate_help = build_parser()._subparsers._group_actions[0].choices["generate"].format_help()
    assert f"default {defaults.temperature}" in " ".join(generate_help.split())


def test_counts_read_with_one_space(qtbot, tmp_path):
    assert human_count(8, " chars") == "8 chars"
    assert (human_count(1_500, " chars"), human_count(512, "B"), human_count(2_048, "B")) == ("1.5 k chars", "512 B",
                                                                                             "2.0 kB")
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        store.insert("datasets", {"name": "tiny", "dir": "datasets/t", "format": "txt", "sources": [], "spec": {},
                                  "stats": {}, "train_chars": 8, "val_chars": 5, "documents": 1, "sha256": "0" * 64,
                                  "created": now_iso()})
        panel = DatasetPanel()
        qtbot.addWidget(panel)
        panel.set_project(store)
        assert (panel.datasets.cell_text(0, 1), panel.datasets.cell_text(0, 2)) == ("8 chars", "5 chars")
        panel.set_project(None)


def test_training_panel_batches_become_curves(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.begin_live("live")
    panel.add_events([StepLogged(step=s, loss=1.0 / s, lr=0.0, grad_norm=0.0, tokens_per_s=0.0) for s in range(1, 6)])
    panel.add_events([EvalFinished(step=5, val_loss=0.3, val_ppl=1.35), "a notice it ignores"])
    assert list(panel.plot.series("loss")[0]) == [1, 2, 3, 4, 5]
    assert list(panel.plot.series("val_loss")[1]) == [0.3]
    panel.end_live("done")
    assert list(panel.plot.series("loss")[0]) == [1, 2, 3, 4, 5]  # no run id: the live curves stay


def test_eta_wording():
    from workbench.ui.status_bar import format_eta

    assert [format_eta(s) for s in (None, -1, 42, 125, 7384)] == ["", "", "42 s left", "2 min 05 s left",
                                                                  "2 h 03 min left"]


def test_status_bar_says_paused_instead_of_an_eta(qtbot):
    from workbench.ui.status_bar import WorkbenchStatusBar

    bar = WorkbenchStatusBar()
    qtbot.addWidget(bar)
    bar.begin_progress("Training", 100)
    bar.set_paused(True)
    bar.update_progress(10)
    assert bar.job_label.text() == "Training  paused" and bar.progress.value() == 10
    bar.set_paused(False)
    assert bar.job_label.text() == "Training"


def test_heatmap_labels_thin_out_on_a_small_map_and_never_overlap(qtbot):
    from workbench.ui.widgets.heatmap import AttentionHeatmap, tick_stride

    assert tick_stride(100, 0.0, 12.0) == 3  # not laid out yet: at most 40 labels
    assert tick_stride(100, 14.0, 12.0) == 1 and tick_stride(100, 5.0, 12.0) == 3
    heatmap = AttentionHeatmap()
    qtbot.addWidget(heatmap)
    labels = [f"t{i}" for i in range(60)]
    heatmap.set_matrix(np.eye(60), labels)
    heatmap.resize(1400, 1400)
    heatmap.show()
    qtbot.waitExposed(heatmap)
    qtbot.waitUntil(lambda: heatmap.row_stride == 1)
    large = heatmap.col_stride
    heatmap.resize(300, 260)
    qtbot.waitUntil(lambda: heatmap.row_stride > 1)
    assert heatmap.col_stride > large
    ticks = heatmap.plot.getAxis("left")._tickLevels[0]
    assert len(ticks) == -(-60 // heatmap.row_stride) and ticks[1][1] == labels[heatmap.row_stride]


def test_heatmap_readout_follows_the_palette(qtbot):
    from PySide6.QtGui import QColor

    from workbench.ui.theme import dark_palette, plot_colors
    from workbench.ui.widgets.heatmap import AttentionHeatmap

    heatmap = AttentionHeatmap()
    qtbot.addWidget(heatmap)
    heatmap.set_matrix(np.eye(3), ["a", "<b>", "c"])
    light_text = QColor(heatmap.readout.opts["color"])
    heatmap.setPalette(dark_palette())
    assert QColor(heatmap.readout.opts["color"]) == plot_colors(heatmap.palette())[1] != light_text
    assert heatmap.readout_text() == "Point at a cell to read its weight."


def test_while_a_run_streams_its_curves_and_axes_are_cached_as_pixmaps(qtbot):
    """Cached while points stream in (their Python paint holds the GIL the training thread needs),
    drawn directly again once the run ends (a zoom is faster without the cache)."""
    from PySide6.QtWidgets import QGraphicsItem

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    grid = panel.plot.grid

    def modes() -> set[QGraphicsItem.CacheMode]:
        axes = [plot.getAxis(side) for plot in grid.plots.values() for side in ("left", "bottom")]
        curves = [item.curve for pair in grid.items.values() for item in pair]
        assert axes and curves
        return {item.cacheMode() for item in axes + curves}

    panel.begin_live("live")
    panel.add_events([StepLogged(step=s, loss=1.0 / s, lr=0.0, grad_norm=0.0, tokens_per_s=0.0) for s in range(1, 6)])
    assert modes() == {QGraphicsItem.CacheMode.DeviceCoordinateCache}
    grid.set_shown(["loss", "lr", "grad_norm"])  # plots made while live are cached too
    assert modes() == {QGraphicsItem.CacheMode.DeviceCoordinateCache}
    panel.end_live("done")
    assert modes() == {QGraphicsItem.CacheMode.NoCache}
