"""Live weights and chosen checkpoints in the Playground and Attention panels (issue 13, section 6):
a paused run is offered as "live (paused at step N)", every generation and attention map says which
step it used, the choosers follow checkpoints and pauses, and "Open in Attention" computes a typed
text's attention with the checkpoint of the step it was opened at. Real tiny runs, real engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import make_one_run_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox

from workbench.core.project.run_lock import RunLock
from workbench.core.project.store import ProjectStore
from workbench.ui import theme
from workbench.ui.widgets.checkpoint_choices import checkpoint_choices, live_label

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_one_run_project(tmp_path_factory.mktemp("live") / "base.wbproj")  # checkpoints at 2 and 4


@pytest.fixture
def one_run(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def items(combo: QComboBox) -> list[tuple[str, str]]:
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def live_items(combo: QComboBox) -> list[str]:
    return [text for text, _key in items(combo) if text.startswith("live (")]


def generate(qtbot, window, checkpoint_index: int) -> str:
    playground = window.panels.playground
    playground.checkpoint.setCurrentIndex(checkpoint_index)
    playground.prompt_edit.setPlainText("the king")
    playground.max_tokens.setValue(4)
    assert playground.request_generation()
    qtbot.waitUntil(lambda: "generate" not in window.jobs.active_kinds() and bool(playground.summary.text()),
                    timeout=120_000)
    return playground.used.text()


def attend(qtbot, window, checkpoint_key: str) -> str:
    attention = window.panels.attention
    assert attention.checkpoint.findData(checkpoint_key) >= 0, items(attention.checkpoint)
    attention.checkpoint.setCurrentIndex(attention.checkpoint.findData(checkpoint_key))
    attention.text_edit.setPlainText("the king speaks")
    attention.used.setText("")
    assert attention.request_attention()
    qtbot.waitUntil(lambda: "attention" not in window.jobs.active_kinds() and bool(attention.used.text()),
                    timeout=120_000)
    return attention.used.text()


def test_the_windows_paused_run_is_offered_live_and_generation_says_its_step(qtbot, window, one_run, shown_errors):
    assert window.open_project(one_run)
    store, playground, attention = window.store, window.panels.playground, window.panels.attention
    for panel in (playground, attention):
        panel.watch.timer.stop()  # only the training job's own events may refresh them here
    run = store.get_run("gpt2")
    store.update("runs", run["id"], status="stopped")
    window.jobs.refresh_panels()
    assert live_items(playground.checkpoint) == []
    assert window.run_wiring.resume_run(run["id"], 100_000)
    window.jobs.set_training_paused(True)
    qtbot.waitUntil(lambda: bool(live_items(playground.checkpoint) and live_items(attention.checkpoint)),
                    timeout=120_000)
    paused = store.get_run(run["id"])
    step = max(row["step"] for row in store.list_checkpoints(run["id"]))  # written as it paused
    assert paused["status"] == "paused" and live_items(playground.checkpoint) == [live_label(step)]
    assert playground.checkpoint.itemData(0) == str(step)

    assert generate(qtbot, window, 0) == f"Used run gpt2, checkpoint step {step}."
    assert attend(qtbot, window, str(step)) == f"Used run gpt2, checkpoint step {step}."
    assert shown_errors == []

    window.jobs.set_training_paused(False)  # resumed: the live choice goes
    qtbot.waitUntil(lambda: not live_items(playground.checkpoint) and not live_items(attention.checkpoint),
                    timeout=60_000)
    qtbot.waitUntil(lambda: max(r["step"] for r in store.list_checkpoints(run["id"])) > step, timeout=120_000)
    qtbot.waitUntil(lambda: playground.checkpoint.itemText(0).startswith("Latest (step ")
                    and playground.checkpoint.itemText(0) != f"Latest (step {step})", timeout=60_000)
    window.jobs.stop_training()
    qtbot.waitUntil(lambda: not window.runner.is_busy("train"), timeout=120_000)
    assert generate(qtbot, window, playground.checkpoint.findData("latest")).startswith("Used run gpt2, checkpoint step ")
    assert generate(qtbot, window, 0) != f"Used run gpt2, checkpoint step {step}."  # latest moved on


def pause_as_another_process(root: Path) -> tuple[RunLock, int]:
    """What `workbench train` paused in a terminal leaves: status "paused", its lock held."""
    with ProjectStore.open(root) as store:
        run = store.get_run("gpt2")
        store.update("runs", run["id"], status="paused")
    return RunLock(root, run["id"], "gpt2").acquire(), int(run["id"])


def test_a_run_paused_by_another_process_is_live_and_the_panels_follow_it(
        qtbot, window, one_run, shots, restore_light, shown_errors):
    lock, run_id = pause_as_another_process(one_run)
    try:
        assert window.open_project(one_run)
        window.resize(1366, 768)
        playground, attention = window.panels.playground, window.panels.attention
        assert checkpoint_choices(window.store, "gpt2") == [
            ("live (paused at step 4)", "4"), ("Latest (step 4)", "latest"),
            ("Best validation loss (step 4)", "best"), ("Step 2", "2")]
        assert items(playground.checkpoint) == items(attention.checkpoint) == checkpoint_choices(window.store, "gpt2")
        assert generate(qtbot, window, 0) == "Used run gpt2, checkpoint step 4."
        window.docks["attention"].raise_()
        assert attend(qtbot, window, "4") == "Used run gpt2, checkpoint step 4."
        _shots(qtbot, window, shots)

        with ProjectStore.open(one_run) as other:  # the other process resumes its run
            other.update("runs", run_id, status="running")
        qtbot.waitUntil(lambda: not live_items(attention.checkpoint), timeout=10_000)  # the visible panel
        window.docks["playground"].raise_()
        qtbot.waitUntil(lambda: not live_items(playground.checkpoint), timeout=10_000)
        assert attention.used.text() == "Used run gpt2, checkpoint step 4."  # what is shown stays
        assert shown_errors == []
    finally:
        lock.release()


def _shots(qtbot, window, shots: Path) -> None:
    playground, attention = window.panels.playground, window.panels.attention
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        theme.apply_color_scheme(QApplication.instance(), scheme)
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(attention.palette()) == dark)
        window.docks["playground"].raise_()
        assert window.grab().toImage().save(str(shots / f"window_playground_live_{name}.png"))
        assert playground.grab().save(str(shots / f"playground_live_{name}.png"))
        window.docks["attention"].raise_()
        assert window.grab().toImage().save(str(shots / f"window_attention_live_{name}.png"))
        assert attention.grab().save(str(shots / f"attention_live_{name}.png"))


def test_open_in_attention_uses_that_checkpoint_for_a_typed_text(qtbot, window, one_run, shown_errors):
    assert window.open_project(one_run)
    training, store, attention = window.panels.training, window.store, window.panels.attention
    gpt2 = store.get_run("gpt2")["id"]
    assert {row["step"] for row in store.list_checkpoints(gpt2)} == {2, 4}
    training.runs.select_key(gpt2)
    training.plot.pointClicked.emit(2)  # a click on the validation point of the older step
    training.samples.attention_button.click()
    assert attention.run.currentData() == "gpt2"
    assert attention.checkpoint.currentData() == "2" and attention.snapshot.currentText() == "step 2"
    assert attend(qtbot, window, "2") == "Used run gpt2, checkpoint step 2."
    assert shown_errors == []

    from workbench.core.attention.extraction import extract_attention
    from workbench.core.inference.models import load_checkpoint_for_inference

    loaded = load_checkpoint_for_inference(store, "gpt2", 2)
    expected = extract_attention(loaded.model, loaded.tokenizer, "the king speaks").weights
    np.testing.assert_allclose(attention.heatmap.matrix(), expected[0].astype(np.float32).mean(axis=0), atol=1e-3)
    newest = extract_attention(*_model_and_tokenizer(store, 4), "the king speaks").weights
    assert not np.allclose(expected, newest, atol=1e-3)  # so the map above is step 2's, not the latest's

    attention.refresh()  # a refresh (a checkpoint saved elsewhere) keeps the choice and the map
    assert attention.checkpoint.currentData() == "2" and attention.used.text() == "Used run gpt2, checkpoint step 2."


def _model_and_tokenizer(store, step: int) -> tuple:
    from workbench.core.inference.models import load_checkpoint_for_inference

    loaded = load_checkpoint_for_inference(store, "gpt2", step)
    return loaded.model, loaded.tokenizer
