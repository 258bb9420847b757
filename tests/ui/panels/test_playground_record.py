"""Playground (issue 14): every generation from the window is saved in the history with its kind,
run, checkpoint step and settings (Generate, a branch, side-by-side columns, fill-mask), and bad
input is said inline in the panel, not in an error dialog (an empty prompt for a tokenizer without
a beginning-of-text token, a checkpoint that fails its hash)."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import pytest
from cli_helpers import make_runs_project
from playground_helpers import generate, open_playground
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.core.base.specs import SampleSpec
from workbench.core.project import branch_trees as bt
from workbench.core.project.generations import list_generations
from workbench.core.project.store import ProjectStore
from workbench.ui import theme
from workbench.ui.jobs import backends, playground_jobs
from workbench.ui.panels.playground.history import describe, kind_of

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_runs_project(tmp_path_factory.mktemp("record") / "base.wbproj")  # gpt2, bert, lstm; steps 2, 4


@pytest.fixture
def runs(base: Path, tmp_path: Path) -> Path:
    playground_jobs.CACHE.clear()  # each test's copy is another project
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def idle(window) -> bool:
    return not window.runner.is_busy("interactive")


def test_the_kind_of_a_row_is_said_first():
    row = {"created": "2025-01-02T03:04:05", "run": "gpt2", "checkpoint_step": 4, "prompt": "the", "text": " king",
           "settings": {"mode": "side-by-side", "column": 2, "temperature": 0.8}}
    assert describe(row) == "2025-01-02 03:04 · side by side 2 · gpt2 step 4 · T 0.8 · 'the' → 'king'"
    assert kind_of({"mode": "generate"}) == kind_of({}) == "Generate"
    assert kind_of({"mode": "branch"}) == "branch"
    assert " · fill-mask · bert step 4 · top 10 · " in describe({**row, "run": "bert", "settings": {
        "mode": "fill-mask", "top_k": 10}})


def test_branches_columns_and_fill_mask_are_saved_in_the_history(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    assert playground.select_run("gpt2")
    playground.form.set_spec(SampleSpec(max_new_tokens=8, temperature=1.0, seed=5))
    generate(qtbot, window, "the king")

    explorer = playground.branches  # branch from the first token with another alternative (as a click does)
    (tree,) = explorer.trees
    original = bt.node_path(tree, tree.nodes[0].id)
    number = next(i for i, a in enumerate(original[0].alternatives) if a.text and a.text != original[0].text)
    explorer.view.alternatives_menu(0).actions()[number].trigger()
    qtbot.waitUntil(lambda: idle(window) and len(explorer.trees[0].nodes) == 2, timeout=120_000)
    qtbot.waitUntil(lambda: len(playground.history.rows()) == 2, timeout=10_000)

    view = playground.side_by_side
    assert view.choose(0, "gpt2", "latest") and view.choose(1, "lstm", "2")
    playground.seed.setValue(-1)  # "random": the seed is drawn when asked, the same for both columns
    assert view.request_compare()
    qtbot.waitUntil(lambda: idle(window) and view.status.text().startswith(("Same", "Generated")), timeout=120_000)

    assert playground.select_run("bert")
    playground.prompt_edit.setPlainText("the king [MASK] to his men")
    assert playground.request_generation()
    qtbot.waitUntil(lambda: playground.fill_mask.summary.text().startswith("Best guess: "), timeout=120_000)
    assert shown_errors == []

    rows = playground.history.rows()  # newest first
    assert [r["settings"]["mode"] for r in rows] == ["fill-mask", "side-by-side", "side-by-side", "branch",
                                                     "generate"]
    fill, second, first, branch, plain = rows
    assert (fill["run"], fill["checkpoint_step"], fill["settings"]["top_k"]) == ("bert", 4, 10)
    assert fill["prompt"] == "the king [MASK] to his men"
    assert fill["text"] == playground.fill_mask.summary.text().removeprefix("Best guess: ")
    assert [(r["run"], r["checkpoint_step"], r["settings"]["column"]) for r in (first, second)] == [
        ("gpt2", 4, 1), ("lstm", 2, 2)]
    assert first["settings"]["seed"] == second["settings"]["seed"] is not None  # drawn once, for both
    assert [r["text"] for r in (first, second)] == [c.text for c in view.columns[:2]]
    assert first["prompt"] == "the king" and first["settings"]["max_new_tokens"] == 8
    assert (branch["run"], branch["checkpoint_step"], branch["settings"]["seed"]) == ("gpt2", 4, 5)
    assert branch["prompt"] == "the king" + original[0].alternatives[number].text
    assert (plain["run"], plain["checkpoint_step"], plain["prompt"]) == ("gpt2", 4, "the king")

    items = [playground.history.list.item(i).text() for i in range(playground.history.list.count())]
    assert [item.split(" · ")[1] for item in items] == ["fill-mask", "side by side 2", "side by side 1", "branch",
                                                        "Generate"]
    playground.history.list.itemClicked.emit(playground.history.list.item(0))  # fill-mask: the filled text
    assert playground.prompt_edit.toPlainText() == "the king [MASK] to his men"
    assert playground.output.toPlainText() == fill["text"]
    assert playground.sample_spec().seed is None  # the settings stay as they were
    playground.history.list.itemClicked.emit(playground.history.list.item(2))  # a column: its prompt and text
    assert playground.output.toPlainText() == "the king" + first["text"]
    assert playground.sample_spec().seed == first["settings"]["seed"]
    with ProjectStore.open(runs) as store:  # in the project: they survive reopening
        assert [r["settings"]["mode"] for r in list_generations(store)][:2] == ["fill-mask", "side-by-side"]


def without_beginning_of_text(loader):
    """The generation engine with a tokenizer that has no beginning-of-text token (as some imported
    Hugging Face tokenizers have none; the workbench's own always have one)."""
    load, *rest = loader()

    def load_without(*args, **kwargs):
        loaded = load(*args, **kwargs)
        tokenizer = copy.copy(loaded.tokenizer)
        tokenizer.eos_token_id = None
        return dataclasses.replace(loaded, tokenizer=tokenizer)

    return lambda: (load_without, *rest)


def test_an_empty_prompt_without_a_beginning_of_text_token_is_said_in_the_panel(qtbot, window, runs, shown_errors,
                                                                                monkeypatch):
    monkeypatch.setattr(backends, "load_generation", without_beginning_of_text(backends.load_generation))
    playground = open_playground(window, runs)
    assert playground.select_run("gpt2")
    generate(qtbot, window, "")
    assert "type the first few words" in playground.problem.text()
    assert playground.problem.objectName() == "playgroundProblem"
    assert playground.summary.text() == "Not generated: the reason is beside Generate."
    assert shown_errors == [] and playground.history.rows() == []


def test_a_checkpoint_that_fails_its_hash_is_said_in_the_panel(qtbot, window, runs, shown_errors):
    playground = open_playground(window, runs)
    store = window.store
    row = next(r for r in store.list_checkpoints(store.get_run("gpt2")["id"]) if r["step"] == 4)
    weights = store.path(row["dir"]) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    assert playground.select_run("gpt2")
    generate(qtbot, window, "the king")
    reason = playground.problem.text()
    assert "sha256" in reason or "damaged" in reason.lower() or "changed" in reason.lower(), reason
    assert playground.summary.text() == "Not generated: the reason is beside Generate."
    assert playground.output.toPlainText() == "the king"
    assert shown_errors == [] and playground.history.rows() == []
    playground.checkpoint.setCurrentIndex(playground.checkpoint.findData("2"))  # another step still generates
    generate(qtbot, window, "the king")
    assert playground.problem.text() == "" and len(playground.history.rows()) == 1


def test_every_tab_at_1366x768_light_and_dark(qtbot, window, runs, shots, restore_light, shown_errors):
    """Screenshots of each tab of the playground in the window (tabbed with Training and Attention on
    a laptop screen), after a generation of every kind (WORKBENCH_SHOTS=/folder keeps them)."""
    playground = open_playground(window, runs)
    window.resize(1366, 768)
    window.docks["playground"].raise_()
    assert playground.select_run("gpt2")
    playground.form.set_spec(SampleSpec(max_new_tokens=60, temperature=0.9, seed=8, num_samples=3))
    generate(qtbot, window, "the king")
    playground.branches.toggle.setChecked(True)
    view = playground.side_by_side
    view.count.setValue(3)
    assert view.choose(0, "gpt2", "latest") and view.choose(1, "gpt2", "2") and view.choose(2, "lstm", "latest")
    assert view.request_compare()
    qtbot.waitUntil(lambda: idle(window) and view.status.text().startswith(("Same", "Generated")), timeout=120_000)
    assert playground.select_run("bert")
    playground.prompt_edit.setPlainText("the king [MASK] to his men and they [MASK]")
    assert playground.request_generation()
    qtbot.waitUntil(lambda: playground.fill_mask.summary.text().startswith("Best guess"), timeout=120_000)
    assert playground.select_run("gpt2")
    playground.surprise.text_edit.setPlainText("the king speaks to his men and they answer with song at night.")
    assert playground.surprise.request_score()
    qtbot.waitUntil(lambda: idle(window) and playground.surprise.summary.text().startswith("Perplexity"),
                    timeout=120_000)
    playground.problem.setText("The prompt is empty and this run's tokenizer has no beginning-of-text token to "
                               "start from; type the first few words of a text for the model to continue")
    tabs = playground.views
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Text", "Tokens", "Samples", "Side by side",
                                                              "Fill mask", "Surprise", "History"]
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        theme.apply_color_scheme(QApplication.instance(), scheme)
        qtbot.waitUntil(lambda dark=(name == "dark"): theme.is_dark(playground.palette()) == dark)
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            label = tabs.tabText(i).lower().replace(" ", "_")
            if i == 0:
                assert window.grab().toImage().save(str(shots / f"window_{label}_{name}.png"))
            assert playground.grab().save(str(shots / f"tab_{label}_{name}.png"))
    assert shown_errors == []
