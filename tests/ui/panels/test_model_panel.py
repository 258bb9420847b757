"""The model panel driven as a user would: presets, inline checks, estimates, the learning-rate curve,
and Start on a real tiny project. Estimates import torch in a background job (a few seconds once)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.core.base.events import run_to_end
from workbench.core.base.specs import DatasetSpec, ModelSpec, TokenizerSpec, TrainSpec, spec_to_dict
from workbench.core.project.store import ProjectStore
from workbench.ui import theme
from workbench.ui.widgets.spec_form import is_marked

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 120
ESTIMATE_TIMEOUT = 90_000  # the first estimate imports torch and transformers on a busy 2-core machine


def drain(gen):
    """Run a core generator to its end; its return value."""
    return run_to_end(gen)[1]


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    """A real project: one small text imported, with a character tokenizer."""
    from workbench.core.ops.catalog import create_tokenizer, import_into_project

    source = tmp_path / "hamlet.txt"
    source.write_text(TEXT, encoding="utf-8")
    path = tmp_path / "tiny.wbproj"
    with ProjectStore.create(path) as store:
        drain(import_into_project(store, [str(source)], DatasetSpec(name="hamlet")))
        drain(create_tokenizer(store, "hamlet", TokenizerSpec(name="chars", kind="char")))
    return path


def vocab_of(window) -> int:
    return int(window.store.get_tokenizer("chars")["vocab_size"])


def wait_estimate(qtbot, panel):
    qtbot.waitUntil(lambda: panel.estimate_result is not None, timeout=ESTIMATE_TIMEOUT)
    return panel.estimate_result


def choose(combo, key) -> None:
    index = combo.findData(key)
    assert index >= 0, key
    combo.setCurrentIndex(index)


def test_a_preset_sets_the_fields_and_the_estimate_follows(qtbot, window, tiny_project):
    from workbench.core.training.estimates import estimate

    window.open_project(tiny_project)
    panel = window.panels.model
    choose(panel.preset, "tiny")
    assert (panel.n_layer.value(), panel.n_head.value(), panel.n_embd.value(), panel.block_size.value()) == (4, 4, 128, 64)
    result = wait_estimate(qtbot, panel)
    model, train = panel.specs()
    assert model.vocab_size == vocab_of(window)
    expected = estimate(model, train, train.device)
    assert result.estimate["params"] == expected.params
    assert panel.estimates.text("params").startswith(f"{expected.params:,} ")
    assert panel.estimates.text("total") != "-" and "per token" in panel.estimates.text("flops")

    choose(panel.preset, "nano")
    assert panel.estimate_result is None  # the old numbers are gone at once
    assert panel.estimates.text("params") == "…"
    result = wait_estimate(qtbot, panel)
    model, train = panel.specs()
    assert (model.n_layer, model.n_embd) == (2, 64)
    assert result.estimate["params"] == estimate(model, train, train.device).params

    panel.n_layer.setValue(3)  # a size edited by hand is no preset any more
    assert panel.preset.currentData() == ""
    qtbot.waitUntil(lambda: panel.estimates.text("step_time").endswith("thread)")
                    or "threads" in panel.estimates.text("step_time"), timeout=ESTIMATE_TIMEOUT)
    assert panel.estimates.text("run_time").startswith("about ")
    assert "parameters" in panel.summary.text()


def test_gpt2_124m_is_estimated_off_the_gui_thread(qtbot, window, tiny_project):
    from workbench.core.training.estimates import estimate

    window.open_project(tiny_project)
    window.jobs.estimator._probe_timer.setInterval(3_600_000)  # no timing probe of 124M here
    panel = window.panels.model
    choose(panel.preset, "gpt2-124m")
    assert panel.n_embd.value() == 768 and panel.block_size.value() == 1024
    result = wait_estimate(qtbot, panel)
    model, train = panel.specs()
    assert result.estimate["params"] == estimate(model, train, train.device).params
    assert result.estimate["params"] > 80_000_000


def test_an_invalid_field_is_marked_and_blocks_start(qtbot, window, tiny_project):
    window.open_project(tiny_project)
    panel = window.panels.model
    assert panel.start_button.isEnabled(), panel.start_button.toolTip()
    panel.n_embd.setValue(130)  # 4 heads do not divide 130
    assert is_marked(panel.n_embd) and is_marked(panel.n_head)
    assert not is_marked(panel.n_layer)
    assert "divisible" in panel.problem.text() and "Embedding size (130)" in panel.problem.text()
    assert "divisible" in panel.n_embd.toolTip()
    assert not panel.start_button.isEnabled() and "divisible" in panel.start_button.toolTip()
    window.actions.start_training.trigger()  # F5 does not start either
    assert not window.runner.is_busy("train")
    assert "divisible" in window.status.currentMessage()

    panel.n_embd.setValue(128)
    assert not is_marked(panel.n_embd) and not is_marked(panel.n_head)
    assert panel.problem.text() == "" and panel.start_button.isEnabled()


def test_checks_that_need_torch_come_back_from_the_job(qtbot, window, tiny_project):
    window.open_project(tiny_project)
    panel = window.panels.model
    choose(panel.device, "cpu")
    choose(panel.precision, "fp16")  # fp16 autocast is for GPUs
    wait_estimate(qtbot, panel)
    assert is_marked(panel.precision) and "Fp16 is for GPUs" in panel.problem.text()
    assert not panel.start_button.isEnabled()
    choose(panel.precision, "bf16")
    wait_estimate(qtbot, panel)
    assert not is_marked(panel.precision) and panel.start_button.isEnabled()
    assert panel.device.itemText(panel.device.findData("auto")).startswith("Automatic (")

    import torch

    if not torch.cuda.is_available():
        choose(panel.device, "cuda")
        wait_estimate(qtbot, panel)
        assert is_marked(panel.device) and "CUDA" in panel.problem.text()
        assert not panel.start_button.isEnabled()
        assert panel.estimates.text("params") != "-"  # a GPU run can still be planned here
        assert "not found" in panel.device.itemText(panel.device.findData("cuda"))


def test_a_run_that_would_not_fit_is_flagged_and_start_asks_first(qtbot, window, tiny_project, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window.open_project(tiny_project)
    panel = window.panels.model
    panel.batch_size.setValue(65536)  # hundreds of GB of activations
    result = wait_estimate(qtbot, panel)
    assert result.estimate["fits"] is False
    assert panel.estimates.fit.text().startswith("Will not fit: needs about")
    assert "(will not fit)" in panel.summary.text()
    assert panel.estimates.text("step_time").startswith("not measured")
    asked = []
    from workbench.ui.widgets import plain_text

    monkeypatch.setattr(plain_text, "exec_box", lambda box: asked.append(box.text()) or QMessageBox.StandardButton.No)
    assert panel.start_button.isEnabled()  # a warning, not a rule: the user may know better
    assert not panel.request_training()
    assert asked and "Start anyway?" in asked[0] and not window.runner.is_busy("train")


def test_a_pretrained_folder_gives_its_own_sizes(qtbot, window, tiny_project, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from transformers import GPT2Config, GPT2LMHeadModel

    from workbench.core.training.estimates import estimate

    folder = tmp_path / "pretrained"
    GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=32, vocab_size=100)).save_pretrained(folder)
    window.open_project(tiny_project)
    panel = window.panels.model
    choose(panel.init, "hub")
    panel.init_source.setText("someone/never-downloaded")  # offline, not in the cache
    wait_estimate(qtbot, panel)
    assert is_marked(panel.init_source) and "Cannot read the configuration" in panel.problem.text()
    choose(panel.init, "folder")
    panel.init_source.clear()
    assert is_marked(panel.init_source) and not panel.start_button.isEnabled()
    assert not panel.n_layer.isEnabled()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    panel.browse_button.click()
    assert panel.init_source.text() == str(folder)
    panel.block_size.setValue(64)  # longer than the 32 positions the model knows
    wait_estimate(qtbot, panel)
    assert is_marked(panel.block_size) and "32 positions" in panel.problem.text()
    panel.block_size.setValue(32)
    result = wait_estimate(qtbot, panel)
    assert not panel.problems(), panel.problems()
    assert (panel.n_layer.value(), panel.n_embd.value()) == (2, 32)
    spec = ModelSpec(arch="gpt2", n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=100)
    assert result.estimate["params"] == estimate(spec, panel.specs()[1], "cpu").params


def test_the_learning_rate_curve_shows_warmup_and_decay(qtbot, window):
    panel = window.panels.model
    panel.lr.setValue(1e-3)
    panel.max_steps.setValue(1000)
    panel.warmup.setValue(100)
    choose(panel.schedule, "cosine")
    steps, lrs = panel.lr_plot.curve()
    assert steps[0] == 0 and lrs[0] == pytest.approx(1e-3 / 100)
    assert lrs.max() == pytest.approx(1e-3) and steps[lrs.argmax()] == 99
    assert lrs[-1] == pytest.approx(1e-3 * TrainSpec().min_lr_ratio, rel=1e-3)
    panel.warmup.setValue(0)
    _, lrs = panel.lr_plot.curve()
    assert lrs[0] == pytest.approx(1e-3)
    choose(panel.schedule, "constant")
    _, lrs = panel.lr_plot.curve()
    assert lrs.min() == pytest.approx(1e-3) == lrs.max()
    panel.lr.setValue(3e-4)
    assert panel.lr_plot.curve()[1].max() == pytest.approx(3e-4)
    assert panel.lr.text() == "0.0003"


def test_start_trains_a_run_with_exactly_the_form_settings(qtbot, window, tiny_project, shown_errors):
    window.open_project(tiny_project)
    panel = window.panels.model
    choose(panel.arch, "llama")
    for box, value in ((panel.n_layer, 2), (panel.n_head, 4), (panel.n_kv_head, 2), (panel.n_embd, 32),
                       (panel.block_size, 16), (panel.dropout, 0.1), (panel.batch_size, 4), (panel.grad_accum, 2),
                       (panel.max_steps, 6), (panel.warmup, 2), (panel.eval_interval, 3), (panel.patience, 0),
                       (panel.seed, 7), (panel.lr, 0.002)):
        box.setValue(value)
    choose(panel.schedule, "linear")
    choose(panel.precision, "fp32")
    choose(panel.device, "cpu")
    choose(panel.tokenizer, "chars")
    assert panel.start_button.isEnabled(), panel.start_button.toolTip()
    window.actions.start_training.trigger()  # F5
    assert window.runner.is_busy("train") and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: not window.runner.is_busy("train"), timeout=240_000)
    assert shown_errors == []
    run = window.store.list_runs()[-1]
    assert run["status"] == "finished" and run["step"] == 6
    vocab = vocab_of(window)
    assert run["model_spec"] == spec_to_dict(ModelSpec(arch="llama", n_layer=2, n_head=4, n_kv_head=2, n_embd=32,
                                                       block_size=16, dropout=0.1, vocab_size=vocab))
    assert run["train_spec"] == spec_to_dict(replace(TrainSpec(), batch_size=4, grad_accum=2, lr=0.002, max_steps=6,
                                                     warmup=2, schedule="linear", eval_interval=3, patience=0,
                                                     precision="fp32", device="cpu", seed=7))
    assert run["tokenizer_id"] == window.store.get_tokenizer("chars")["id"]
    assert window.panels.training.selected_run() == run["id"]

    # the project remembers the settings of its last run
    window.close_project()
    panel.n_layer.setValue(5)
    choose(panel.arch, "gpt2")
    window.open_project(tiny_project)
    assert panel.arch.currentData() == "llama" and panel.n_layer.value() == 2 and panel.n_kv_head.value() == 2
    assert panel.specs()[1] == replace(TrainSpec(), batch_size=4, grad_accum=2, lr=0.002, max_steps=6, warmup=2,
                                       schedule="linear", eval_interval=3, precision="fp32", device="cpu", seed=7)


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                           "This plugin does not support raise")  # the floating dock, offscreen
def test_panel_screenshots_light_and_dark(qtbot, window, tiny_project, tmp_path):
    folder = Path(os.environ.get("WORKBENCH_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance()
    window.open_project(tiny_project)
    panel = window.panels.model
    choose(panel.preset, "tiny")
    wait_estimate(qtbot, panel)
    qtbot.waitUntil(lambda: panel.estimates.text("step_time") not in ("measuring…", "-"), timeout=ESTIMATE_TIMEOUT)
    dock = window.docks["model"]
    try:
        for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
            theme.apply_color_scheme(app, scheme)
            dock.setFloating(False)
            qtbot.wait(50)
            assert window.grab().save(str(folder / f"model_window_{name}.png"))  # as docked by default
            dock.setFloating(True)
            dock.resize(480, 1560)  # tall enough for the whole form
            qtbot.wait(50)
            assert panel.grab().save(str(folder / f"model_panel_{name}.png"))
            panel.n_embd.setValue(130)
            qtbot.wait(20)
            assert panel.grab().save(str(folder / f"model_panel_invalid_{name}.png"))
            panel.n_embd.setValue(128)
            wait_estimate(qtbot, panel)
    finally:
        theme.apply_color_scheme(app, Qt.ColorScheme.Light)
