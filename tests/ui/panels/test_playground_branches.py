"""Playground points 2-4 (issue 14) in the real window on a tiny trained run: tokens coloured by
probability or surprise with alternatives on hover, branching from an alternative into a tree that
is saved in the project, walked, compared and pruned, and several samples with their mean log p."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from cli_helpers import make_one_run_project
from PySide6.QtGui import QTextCursor, QTextFormat

from workbench.core.project import branch_trees as bt
from workbench.core.project.store import ProjectStore

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_one_run_project(tmp_path_factory.mktemp("branches") / "base.wbproj")


@pytest.fixture
def one_run(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "p.wbproj"))


def wait_done(qtbot, window) -> None:
    playground = window.panels.playground
    qtbot.waitUntil(lambda: "generate" not in window.jobs.active_kinds() and bool(playground.summary.text()),
                    timeout=120_000)


def generate(qtbot, window, prompt: str, samples: int = 1, tokens: int = 12):
    playground = window.panels.playground
    playground.prompt_edit.setPlainText(prompt)
    playground.form.num_samples.setValue(samples)
    playground.max_tokens.setValue(tokens)
    playground.seed.setValue(1)  # 12 tokens before the tiny model ends its text (seed 1 + i for sample i)
    playground.temperature.setValue(1.0)
    assert playground.request_generation()
    wait_done(qtbot, window)
    return playground.branches


def background(view, position: int) -> str | None:
    cursor = QTextCursor(view.document())
    cursor.setPosition(position + 1)
    fmt = cursor.charFormat()
    return fmt.background().color().name() if fmt.hasProperty(QTextFormat.Property.BackgroundBrush) else None


def test_tokens_are_coloured_by_probability_or_surprise_with_alternatives_on_hover(qtbot, window, one_run):
    assert window.open_project(one_run)
    explorer = generate(qtbot, window, "the king")
    view = explorer.view
    assert view.shown_text().startswith("the king") and view.token_count() == 12
    first = view._starts[0]
    assert background(view, first) is None  # colours are off until asked for
    explorer.toggle.setChecked(True)
    by_probability = [background(view, s) for s in view._starts]
    assert all(by_probability) and len(set(by_probability)) > 1
    assert background(view, 0) is None  # the prompt is never coloured
    explorer.mode.setCurrentIndex(explorer.mode.findData("surprise"))
    assert [background(view, s) for s in view._starts] != by_probability
    assert not explorer.legend.isHidden() and "surprising" in explorer.legend.toolTip()
    tip = view.tooltip_at(0)
    token = view.tokens()[0]
    assert "(after the sampler)" in tip and "Top alternatives" in tip
    assert len(token.alternatives) == 5 and all(a.prob_sampled is not None for a in token.alternatives)
    assert token.alternatives[0].name in tip
    explorer.toggle.setChecked(False)
    assert background(view, first) is None


def test_several_samples_are_listed_with_their_mean_log_probability(qtbot, window, one_run):
    assert window.open_project(one_run)
    explorer = generate(qtbot, window, "the", samples=3, tokens=10)
    table = explorer.samples
    assert table.objectName() == "samplesList" and table.rowCount() == 3
    (tree,) = explorer.trees
    roots = [n for n in tree.nodes if n.parent_id is None]
    assert len(roots) == 3
    expected = [sum(math.log(t.prob) for t in n.tokens) / len(n.tokens) for n in roots]
    assert table.mean_logprobs() == pytest.approx(expected, abs=1e-3)
    assert [table.item(r, 4).text() for r in range(3)] == ["".join(t.text for t in n.tokens) for n in roots]
    table.selectRow(2)
    assert explorer.view.tokens() == list(roots[2].tokens)
    assert explorer.tree.selected_keys() == [(tree.id, roots[2].id)]


def test_branching_builds_a_tree_that_is_saved_compared_and_pruned(qtbot, window, one_run, answer_questions):
    assert window.open_project(one_run)
    explorer = generate(qtbot, window, "the king", tokens=10)
    (tree,) = explorer.trees
    sample = tree.nodes[0]
    original = bt.node_path(tree, sample.id)
    menu = explorer.view.alternatives_menu(3)
    number = next(i for i, a in enumerate(original[3].alternatives) if a.text and a.text != original[3].text)
    menu.actions()[number].trigger()  # what clicking token 4 and choosing an alternative does
    wait_done(qtbot, window)
    (tree,) = explorer.trees
    assert len(tree.nodes) == 2
    branch = tree.nodes[1]
    assert (branch.parent_id, branch.at_token) == (sample.id, 3)
    alternative = original[3].alternatives[number]
    text = bt.node_text(tree, branch.id)
    assert text.startswith("the king" + "".join(t.text for t in original[:3]) + alternative.text)
    assert explorer.tree.selected_keys() == [(tree.id, branch.id)]
    assert explorer.view.shown_text() == text

    explorer.tree.item_for((tree.id, sample.id)).setSelected(True)  # two nodes: compared
    assert explorer.compare_button.isEnabled()
    assert "differ from token 4 on" in explorer.message.text()
    assert explorer.view.comparing()

    with ProjectStore.open(one_run) as store:  # saved: another reader sees the same tree
        assert bt.load_trees(store) == explorer.trees
    window.open_project(one_run)
    assert [len(t.nodes) for t in window.panels.playground.branches.trees] == [2]

    explorer = window.panels.playground.branches
    assert explorer.tree.select((tree.id, branch.id))
    assert explorer.prune_selected()
    assert answer_questions and "every branch below it" in answer_questions[-1]
    assert [n.id for n in explorer.trees[0].nodes] == [sample.id]
    with ProjectStore.open(one_run) as store:
        assert [n.id for n in bt.load_trees(store)[0].nodes] == [sample.id]


def test_a_branch_continues_from_the_exact_tokens_not_its_text_encoded_again(qtbot, window, one_run, monkeypatch):
    from workbench.core.inference import generation

    calls: list[tuple[str, tuple[int, ...]]] = []
    real = generation.generate

    def spy(model, tokenizer, prompt, spec, **options):
        calls.append((prompt, tuple(options.get("continue_ids", ()))))
        return real(model, tokenizer, prompt, spec, **options)

    monkeypatch.setattr(generation, "generate", spy)
    assert window.open_project(one_run)
    explorer = generate(qtbot, window, "the king", tokens=10)
    assert calls == [("the king", ())]
    (tree,) = explorer.trees
    original = bt.node_path(tree, tree.nodes[0].id)
    number = next(i for i, a in enumerate(original[2].alternatives) if a.text and a.text != original[2].text)
    explorer.view.alternatives_menu(2).actions()[number].trigger()
    wait_done(qtbot, window)
    alternative = original[2].alternatives[number]
    assert calls[1] == ("the king", (original[0].token_id, original[1].token_id, alternative.token_id))
    (tree,) = explorer.trees
    branch = bt.node_path(tree, tree.nodes[1].id)
    assert branch[2].token_id == alternative.token_id  # kept, so a branch of this branch is exact too
