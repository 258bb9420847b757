"""The runs table (columns from the runs' specs and metrics, sorting, filter), comparison of several
runs (overlaid curves, settings diff) and the samples by step, on a project trained by the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import make_runs_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget

from workbench.core.base.disk import folder_size, size_text
from workbench.core.ops.run_summary import run_summaries
from workbench.ui.panels.training.runs_table import HEADERS
from workbench.ui.widgets.plain_text import tooltip_text


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_runs_project(tmp_path_factory.mktemp("runs") / "base.wbproj")


@pytest.fixture
def runs_project(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def column(table: QTableWidget, header: str) -> list[str]:
    c = HEADERS.index(header)
    return [table.item(r, c).text() for r in range(table.rowCount())]


def test_the_runs_table_shows_settings_and_speed_sorts_and_filters(window, runs_project):
    assert window.open_project(runs_project)
    training = window.panels.training
    table = window.findChild(QTableWidget, "runsTable")
    assert table is training.runs
    assert column(table, "Name") == ["gpt2", "bert", "lstm"]  # creation order until a header is clicked
    assert column(table, "LR") == ["3e-03"] * 3 and column(table, "Batch") == ["4"] * 3
    assert column(table, "Tokenizer") == ["chars"] * 3
    assert all(text != "-" for text in column(table, "Params") + column(table, "Tokens/s") + column(table, "Duration"))
    folders = [window.store.path(window.store.get_run(name)["dir"]) for name in ("gpt2", "bert", "lstm")]
    assert all(folder_size(f) > 0 for f in folders)  # the project's disk use per run, as deleting would free it
    assert column(table, "Disk") == [size_text(folder_size(f)) for f in folders]

    table.sortItems(HEADERS.index("Name"))
    assert column(table, "Name") == ["bert", "gpt2", "lstm"]
    ids = {window.store.get_run(name)["id"]: name for name in ("gpt2", "bert", "lstm")}
    params = {ids[k]: s.params for k, s in run_summaries(window.store).items()}
    table.sortItems(HEADERS.index("Params"))
    assert column(table, "Name") == sorted(params, key=params.get)  # by the number, not its text

    training.filter.setText("LST")
    assert [ids[k] for k in table.visible_keys()] == ["lstm"]
    training.filter.setText("")
    assert len(table.visible_keys()) == 3


def test_several_selected_runs_are_overlaid_and_their_differences_listed(window, runs_project):
    assert window.open_project(runs_project)
    training = window.panels.training
    gpt2, lstm = (window.store.get_run(name)["id"] for name in ("gpt2", "lstm"))
    training.runs.select_keys([gpt2, lstm])
    assert training.selected_runs() == [gpt2, lstm]
    assert training.feed.overlaid() == [gpt2, lstm]
    assert list(training.plot.grid.runs) == [gpt2, lstm]  # the curves widget got both
    diff = window.findChild(QTableWidget, "runDiffTable")
    assert diff is training.diff and diff.isVisible()
    assert diff.horizontalHeaderItem(1).text() == "gpt2" and diff.horizontalHeaderItem(2).text() == "lstm"
    row = diff.settings().index("model.arch")
    assert (diff.cell_text(row, 1), diff.cell_text(row, 2)) == ("gpt2", "lstm")
    assert "train.lr" not in diff.settings()  # the same in both

    training.runs.select_key(gpt2)
    assert training.feed.overlaid() == [gpt2] and diff.rowCount() == 0


def test_samples_by_step_and_a_validation_point_open_that_checkpoint(window, runs_project):
    assert window.open_project(runs_project)
    training, store = window.panels.training, window.store
    gpt2 = store.get_run("gpt2")["id"]
    training.runs.select_key(gpt2)
    samples = training.samples
    assert samples.steps() == [2, 4]  # one sample per evaluation
    kept = {row["step"] for row in store.list_checkpoints(gpt2)}
    assert 4 in kept

    training.plot.pointClicked.emit(4)  # a click on the validation point of step 4
    assert samples.selected_step() == 4 and samples.text.toPlainText()
    assert samples.playground_button.isEnabled() and samples.attention_button.isEnabled()
    samples.playground_button.click()
    playground = window.panels.playground
    assert playground.run.currentData() == "gpt2" and playground.checkpoint.currentData() == "4"
    samples.attention_button.click()
    assert window.panels.attention.run.currentData() == "gpt2"

    store.execute("DELETE FROM checkpoints WHERE run_id = ? AND step = 2", (gpt2,))
    training.refresh()
    training.samples.show_run(store, gpt2)
    assert samples.select_step(2)
    assert not samples.playground_button.isEnabled()
    assert "No checkpoint was kept at step 2" in samples.playground_button.toolTip()


def test_generate_and_show_attention_say_why_for_a_run_without_checkpoint(window, project):
    assert window.open_project(project)  # its runs have curves but no checkpoint
    attention, playground = window.panels.attention, window.panels.playground
    assert attention.run.count() == 2 and not attention.show_button.isEnabled()
    assert "has no checkpoint yet" in tooltip_text(attention.show_button.toolTip())
    assert not playground.generate_button.isEnabled()
    assert "needs a saved checkpoint" in tooltip_text(playground.generate_button.toolTip())


def test_a_checkpoint_is_pinned_from_its_sample(window, runs_project):
    assert window.open_project(runs_project)
    training, store = window.panels.training, window.store
    gpt2 = store.get_run("gpt2")["id"]
    training.runs.select_key(gpt2)
    assert training.pick_step(4)
    pin = training.samples.pin_button
    assert pin.isEnabled() and not pin.isChecked()
    pin.click()
    assert [r["step"] for r in store.list_checkpoints(gpt2) if r["pinned"]] == [4]
    training.samples.show_run(store, gpt2)  # shown again: it reads as pinned
    assert pin.isChecked() and pin.text() == "Pinned"
    pin.click()
    assert not any(r["pinned"] for r in store.list_checkpoints(gpt2))


def test_selecting_runs_while_a_caller_blocks_signals_emits_nothing(window, runs_project):
    assert window.open_project(runs_project)
    table = window.panels.training.runs
    seen: list[list] = []
    table.selectionChangedKeys.connect(seen.append)
    keys = [table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(table.rowCount())]
    rows = [(key, ["x"] * table.columnCount()) for key in keys]
    table.blockSignals(True)
    table.set_records(rows, select=keys[0])
    table.select_keys(keys[:1])
    assert table.signalsBlocked()  # restored as the caller set it, not unblocked halfway
    table.blockSignals(False)
    assert seen == []
    table.select_keys(keys[:2])
    assert seen and seen[-1][:1] == keys[:1]


def test_a_refresh_of_the_same_runs_changes_only_the_cells_that_differ(window, runs_project):
    assert window.open_project(runs_project)
    table = window.panels.training.runs
    keys = [table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(table.rowCount())]
    table.select_keys(keys[:2])
    rows = {key: [table.cell_text(r, c) for c in range(table.columnCount())] for r, key in enumerate(keys)}
    unchanged = table.item(0, 0)
    rows[keys[1]][2] = "12345"  # one run's step moved on
    seen: list[list] = []
    table.selectionChangedKeys.connect(seen.append)
    table.set_records([(key, cells) for key, cells in rows.items()])
    assert table.item(0, 0) is unchanged  # not rebuilt
    assert table.cell_text(keys.index(keys[1]), 2) == "12345"
    assert table.selected_keys() == keys[:2] and seen[-1] == keys[:2]  # kept, and said again
    table.set_records([(key, cells) for key, cells in list(rows.items())[1:]])  # a run fewer: rebuilt
    assert table.rowCount() == len(keys) - 1
