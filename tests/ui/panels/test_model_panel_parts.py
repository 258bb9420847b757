"""The model panel's pieces without a window: messages to fields, the learning-rate box, the timing
plan of big models, run time, saved settings, and the estimate job itself (it never raises)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.events import run_to_end
from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.ui.jobs.model import (
    PROBE_FLOPS,
    EstimateRequest,
    EstimateResult,
    estimate_job,
    evaluations,
    probe_plan,
    run_seconds,
)
from workbench.ui.panels.model import settings as model_settings
from workbench.ui.widgets.lr_curve import LrCurvePlot, schedule_points
from workbench.ui.widgets.spec_form import LearningRateBox, fields_named_in, for_form


def core_message(spec) -> str:
    with pytest.raises(InvalidSpecError) as caught:
        spec.validate()
    return str(caught.value)


def test_core_messages_name_their_fields_in_the_forms_words():
    message = core_message(ModelSpec(n_embd=130, n_head=4))
    assert fields_named_in(message) == ["n_head", "n_embd"]
    assert for_form(message) == ("Embedding size (130) must be divisible by attention heads (4); "
                                 "try embedding size 128")
    kv = core_message(ModelSpec(arch="llama", n_head=4, n_kv_head=3))
    assert fields_named_in(kv) == ["n_head", "n_kv_head"]
    assert fields_named_in(core_message(TrainSpec(max_steps=0))) == ["max_steps"]
    assert fields_named_in(core_message(TrainSpec(lr=2.0))) == ["lr"]
    assert for_form(core_message(TrainSpec(grad_accum=0))).startswith("Gradient accumulation must be")


def test_the_learning_rate_box_reads_scientific_notation_and_steps_in_nice_values(qtbot):
    box = LearningRateBox(1e-3)
    qtbot.addWidget(box)
    assert box.text() == "0.001"
    box.setText("3e-4")
    assert box.value() == pytest.approx(3e-4)
    box.stepBy(1)
    assert box.value() == pytest.approx(5e-4)
    box.stepBy(2)
    assert box.value() == pytest.approx(2e-3)
    box.stepBy(-3)
    assert box.value() == pytest.approx(3e-4)


def test_schedule_points_keep_the_corners_of_warmup():
    steps, lrs = schedule_points(TrainSpec(lr=1e-3, warmup=7, max_steps=10_000_000))
    assert len(steps) < 320 and {0, 6, 7, 9_999_999} <= set(steps.tolist())
    assert lrs[list(steps).index(6)] == pytest.approx(1e-3)
    assert lrs[0] == pytest.approx(1e-3 / 7)


@pytest.mark.parametrize("lr", [1e-3, 3.5e-4, 6e-5])
def test_the_learning_rate_plot_has_room_for_its_tick_labels_from_the_first_frame(qtbot, lr):
    from PySide6.QtGui import QFontMetrics

    plot = LrCurvePlot()
    qtbot.addWidget(plot)
    plot.resize(540, 170)
    plot.show_schedule(TrainSpec(lr=lr, warmup=10, max_steps=1000))
    axis = plot.getPlotItem().getAxis("left")
    labels = [axis.tickStrings(values, 1.0, spacing) for spacing, values in axis.tickValues(0.0, lr, 120)]
    widest = max(QFontMetrics(plot.font()).horizontalAdvance(text) for level in labels for text in level)
    assert axis.style["tickTextWidth"] >= widest  # else the axis title is drawn across the numbers


def test_small_models_are_timed_as_they_are_big_ones_on_a_smaller_batch():
    tiny, train = ModelSpec(n_layer=4, n_embd=128, block_size=64, vocab_size=65), TrainSpec(batch_size=12)
    assert probe_plan(tiny, train, "cpu", 5.4e6) is None
    big = ModelSpec(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50257)
    sequences, context, scale = probe_plan(big, train, "cpu", 7e8)
    assert sequences == 1 and 8 <= context < 1024
    flops_small = 7e8 - 12 * 12 * 768 * (1024 - context)
    assert sequences * context * flops_small <= PROBE_FLOPS["cpu"]
    assert scale == pytest.approx(12 * 1024 * 7e8 / (context * flops_small))
    sequences, context, _ = probe_plan(big, train, "cuda", 7e8)
    assert context == 1024 and 1 <= sequences <= 12


def test_run_time_counts_steps_and_evaluations():
    train = TrainSpec(max_steps=1000, eval_interval=300, eval_batches=20, grad_accum=2)
    assert evaluations(train) == 4  # 300, 600, 900 and the last step
    assert run_seconds(0.5, train) == pytest.approx(0.5 * 1000 + 4 * 20 * 0.25 / 3)


def test_settings_round_trip_and_bad_entries_are_ignored(tmp_path):
    from workbench.core.project.store import ProjectStore

    state = model_settings.PanelState(ModelSpec(arch="llama", n_kv_head=2), replace(TrainSpec(), lr=3e-4),
                                      "shake", "chars", "scratch")
    assert model_settings.PanelState.from_json(state.to_json()) == state
    assert model_settings.PanelState.from_json('{"model": {"arch": 1') is None
    assert model_settings.PanelState.from_json(None) is None
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        assert model_settings.load(store) is None
        model_settings.remember(state)
        assert model_settings.load(store) == state  # the application's latest, for a project without runs
        saved = replace(state, dataset="other")
        model_settings.save(store, saved)
        model_settings.remember(state)
        assert model_settings.load(store) == saved  # the project's own settings first


def drain(gen):
    """Run a core generator to its end; its return value."""
    return run_to_end(gen)[1]


def test_the_estimate_job_reports_problems_instead_of_raising():
    request = EstimateRequest(ModelSpec(n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=0),
                              TrainSpec(device="cpu"))
    result = drain(estimate_job(request))
    assert isinstance(result, EstimateResult) and result.estimate is None
    assert any("vocabulary" in p for p in result.problems)
    good = drain(estimate_job(replace(request, model=replace(request.model, vocab_size=40))))
    assert good.problems == () and good.estimate["params"] > 0 and good.devices["auto"]
    missing = drain(estimate_job(replace(request, model=replace(request.model, init_from="/no/such/folder"))))
    assert missing.estimate is None and "cannot read the configuration" in missing.problems[0]


def test_the_estimator_keeps_to_the_newest_request_and_times_it(qtbot):
    from workbench.engine.runner import JobRunner
    from workbench.ui.jobs.estimates import ModelEstimator
    from workbench.ui.jobs.model import probe_key

    runner = JobRunner()
    estimator = ModelEstimator(runner, probe_delay_ms=20)
    estimated, probed = [], []
    estimator.estimated.connect(estimated.append)
    estimator.probed.connect(probed.append)
    a = EstimateRequest(ModelSpec(n_layer=1, n_head=2, n_embd=32, block_size=8, vocab_size=30),
                        TrainSpec(device="cpu", batch_size=2))
    b, c = (replace(a, model=replace(a.model, n_layer=n)) for n in (2, 3))
    estimator.request(a)
    estimator.request(b)  # waits behind a ...
    estimator.request(c)  # ... and is replaced by c
    qtbot.waitUntil(lambda: bool(probed), timeout=90_000)
    assert [r.request for r in estimated] == [a, c]
    assert probed[-1].key == probe_key(c) and probed[-1].seconds_per_step > 0
    estimator.request(replace(c, train=replace(c.train, max_steps=5)))  # same step: timed from the cache
    qtbot.waitUntil(lambda: len(probed) == 2, timeout=60_000)
    assert probed[1] == probed[0]
    estimator.request(None)
    qtbot.waitUntil(lambda: not estimator.is_busy(), timeout=60_000)
    assert runner.stop_all(wait=True)


def test_every_model_field_has_an_object_name(qtbot):
    from PySide6.QtWidgets import QWidget

    from workbench.ui.panels.model.form import field_object_name
    from workbench.ui.panels.model.panel import ModelPanel

    assert field_object_name("n_layer") == "nLayerField" and field_object_name("lr") == "lrField"
    panel = ModelPanel()
    qtbot.addWidget(panel)
    for key, widget in panel.fields.items():
        assert widget.objectName(), key
        assert panel.findChild(QWidget, widget.objectName()) is widget
    assert panel.findChild(QWidget, "nEmbdField") is panel.fields["n_embd"]


def test_cpu_threads_is_a_setting_that_reaches_the_train_spec(qtbot):
    from workbench.ui.panels.model.panel import ModelPanel

    panel = ModelPanel()
    qtbot.addWidget(panel)
    box = panel.fields["num_threads"]
    assert box.text() == "automatic" and panel.specs()[1].num_threads == 0
    box.setValue(1)
    assert panel.specs()[1].num_threads == 1
