"""Playground history and live figures (issue 14 points 8 and 9) on a real tiny trained run: every
generation from the window is saved with its settings, run and checkpoint step; the list shows them
newest first, restores one into the editor, exports JSONL and survives reopening. Bad prompts are said."""

from __future__ import annotations

import functools
import json
import shutil
import time
from pathlib import Path

import pytest
from cli_helpers import make_one_run_project
from playground_helpers import generate

from workbench.core.base.events import TokenGenerated
from workbench.core.base.specs import SampleSpec
from workbench.core.project.generations import list_generations
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.playground import history

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_one_run_project(tmp_path_factory.mktemp("history") / "base.wbproj")


@pytest.fixture
def one_run(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def test_generations_are_saved_listed_restored_and_exported(qtbot, window, one_run, tmp_path, monkeypatch,
                                                            shown_errors):
    assert window.open_project(one_run)
    playground = window.panels.playground
    playground.form.set_spec(SampleSpec(max_new_tokens=6, temperature=0.7, top_k=5, min_p=0.02, num_samples=2,
                                        seed=11, stop=("zzz",)))
    generate(qtbot, window, "the king")
    assert "tokens/s" in playground.figures.label.text() and "first token" in playground.figures.label.text()
    assert playground.used.text() == "Used run gpt2, checkpoint step 4."
    playground.form.set_spec(SampleSpec(max_new_tokens=3, temperature=0.0))
    generate(qtbot, window, "his men")
    assert shown_errors == []

    rows = playground.history.rows()
    assert [r["prompt"] for r in rows] == ["his men", "the king", "the king"]  # newest first
    assert playground.history.list.objectName() == "generationHistory" and playground.history.list.count() == 3
    first = rows[2]
    assert (first["run"], first["checkpoint_step"], first["settings"]["seed"], first["settings"]["min_p"]) == (
        "gpt2", 4, 11, 0.02)
    assert playground.output.toPlainText().startswith("his men")

    playground.history.list.itemClicked.emit(playground.history.list.item(2))  # a user's click
    assert playground.prompt_edit.toPlainText() == "the king"
    assert playground.sample_spec() == SampleSpec(max_new_tokens=6, temperature=0.7, top_k=5, min_p=0.02,
                                                  num_samples=2, seed=11, stop=("zzz",))
    assert playground.output.toPlainText() == "the king" + first["text"]

    out = tmp_path / "exported.jsonl"
    monkeypatch.setattr(history, "ask_export_path", lambda parent: str(out))
    assert playground.history.export()
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["prompt"] for line in lines] == ["his men", "the king", "the king"] and lines[0]["run"] == "gpt2"
    (tmp_path / "a-file").write_text("")
    monkeypatch.setattr(history, "ask_export_path", lambda parent: str(tmp_path / "a-file" / "h.jsonl"))
    assert not playground.history.export()
    assert "choose a folder you can write to" in playground.history.message.text()

    window.panels.playground.set_project(None)
    assert playground.history.list.count() == 0
    assert window.open_project(one_run)  # reopened: the list comes back from the project
    assert [r["prompt"] for r in playground.history.rows()] == ["his men", "the king", "the king"]
    with ProjectStore.open(one_run) as store:  # reopened: the history is in the project
        assert [r["prompt"] for r in list_generations(store)] == ["his men", "the king", "the king"]


def endless(prompt: str):
    """A generation that only ends when stopped (a real model may end its text first)."""
    index = 0
    while True:
        yield TokenGenerated(sample=0, index=index, token_id=1, text="a", prob=0.5, logprob_total=-index)
        index += 1
        time.sleep(0.002)


def test_a_stopped_generation_is_saved_marked_stopped(qtbot, window, one_run):
    assert window.open_project(one_run)
    playground = window.panels.playground
    spec = SampleSpec(max_new_tokens=100_000, seed=1)
    playground.recorder.requested("the", spec)  # as `request_generation` does before the job starts
    window.jobs.run_generation(functools.partial(endless, "the"), "the")
    qtbot.waitUntil(lambda: len(playground.output.toPlainText()) > 10, timeout=60_000)
    playground.stop_button.click()
    qtbot.waitUntil(lambda: bool(playground.summary.text()), timeout=60_000)
    assert playground.summary.text().startswith("Stopped")
    rows = playground.history.rows()
    assert len(rows) == 1 and rows[0]["settings"]["stopped"] is True and rows[0]["settings"]["seed"] == 1
    assert rows[0]["prompt"] == "the" and set(rows[0]["text"]) == {"a"}


def test_a_prompt_longer_than_the_context_is_cut_with_a_notice(qtbot, window, one_run):
    assert window.open_project(one_run)
    playground = window.panels.playground
    playground.form.set_spec(SampleSpec(max_new_tokens=2, seed=1))
    generate(qtbot, window, "the king speaks to his men " * 3)  # 81 characters; the context is 32
    assert playground.problem.text() == ("The prompt has 81 tokens and the model reads at most 32: its first 49 "
                                         "tokens were cut, and the model continues from the last 32.")
    generate(qtbot, window, "the king")
    assert playground.problem.text() == ""
