"""Branch trees of the playground: saved in the project, walked, pruned, kept across reopening."""

from __future__ import annotations

import sqlite3

import pytest

from workbench.core.base.events import TokenGenerated
from workbench.core.project.branch_trees import (
    Alternative,
    BranchToken,
    add_node,
    continuation_ids,
    create_tree,
    delete_node,
    first_difference,
    load_trees,
    node_path,
    node_text,
    token_from_event,
    token_owner,
)
from workbench.core.project.schema import MIGRATIONS, SCHEMA_VERSION
from workbench.core.project.store import ProjectStore


def tokens(text: str, prob: float = 0.5) -> list[BranchToken]:
    return [BranchToken(ch, prob, 0.9, (Alternative(ch, prob, 0.9, ch), Alternative("·", 0.1, 0.05, " ")))
            for ch in text]


def test_a_tree_is_saved_walked_and_comes_back_on_reopen(tmp_path):
    root = tmp_path / "p.wbproj"
    with ProjectStore.create(root) as store:
        tree_id = create_tree(store, None, "latest", "To ", {"temperature": 0.8, "seed": 3})
        sample = add_node(store, tree_id, None, None, tokens("be or"))
        branch = add_node(store, tree_id, sample, 2, tokens("!!"))
        deeper = add_node(store, tree_id, branch, 3, tokens("?"))
    with ProjectStore.open(root) as store:
        (tree,) = load_trees(store)
    assert (tree.prompt, tree.checkpoint, tree.settings) == ("To ", "latest", {"temperature": 0.8, "seed": 3})
    assert [n.id for n in tree.nodes] == [sample, branch, deeper]
    assert node_text(tree, sample) == "To be or"
    assert node_text(tree, branch) == "To be!!"
    assert node_text(tree, deeper) == "To be!?"
    assert tree.node(branch).tokens[0].alternatives[1] == Alternative("·", 0.1, 0.05, " ")
    assert token_owner(tree, deeper, 0) == sample and token_owner(tree, deeper, 2) == branch
    assert token_owner(tree, deeper, 3) == deeper
    assert first_difference(node_path(tree, sample), node_path(tree, branch)) == 2
    assert tree.node(sample).mean_logprob() == pytest.approx(-0.6931, abs=1e-4)


def test_pruning_removes_the_subtree_and_an_empty_tree(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        tree_id = create_tree(store, None, "3", "", {})
        first = add_node(store, tree_id, None, None, tokens("ab"))
        second = add_node(store, tree_id, None, None, tokens("cd"))
        branch = add_node(store, tree_id, first, 1, tokens("x"))
        add_node(store, tree_id, branch, 1, tokens("y"))
        delete_node(store, first)
        (tree,) = load_trees(store)
        assert [n.id for n in tree.nodes] == [second]
        delete_node(store, second)
        assert load_trees(store) == []


def test_a_tree_of_a_deleted_run_goes_with_it(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        run = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                    "status": "finished", "dir": "runs/r", "created": "now"})
        add_node(store, create_tree(store, run, "latest", "", {}), None, None, tokens("a"))
        assert load_trees(store)[0].run_name == "r"
        store.execute("DELETE FROM runs WHERE id = ?", (run,))
        assert load_trees(store) == []


def test_token_from_event_keeps_both_probabilities_the_texts_and_the_ids():
    event = TokenGenerated(sample=0, index=0, token_id=5, text="a", prob=0.4, logprob_total=-0.9,
                           alternatives=(("a", 0.4), ("·", 0.3)), prob_sampled=0.6,
                           alternatives_sampled=(0.6, 0.4), alternative_texts=("a", " "), alternative_ids=(5, 9))
    token = token_from_event(event)
    assert token == BranchToken("a", 0.4, 0.6, (Alternative("a", 0.4, 0.6, "a", 5), Alternative("·", 0.3, 0.4, " ", 9)),
                                token_id=5)
    assert BranchToken.from_json(token.to_json()) == token


def test_tokens_saved_before_ids_were_kept_still_load_and_branch_from_their_text():
    old = ["a", 0.4, 0.6, [["a", 0.4, 0.6, "a"], ["·", 0.3, None, " "]]]
    token = BranchToken.from_json(old)
    assert token == BranchToken("a", 0.4, 0.6, (Alternative("a", 0.4, 0.6, "a"), Alternative("·", 0.3, None, " ")))
    assert continuation_ids([token], 1, token.alternatives[1]) is None


def test_a_branch_continues_from_the_exact_ids_up_to_its_alternative():
    path = [BranchToken("ab", 0.5, token_id=7), BranchToken("c", 0.5, token_id=3,
                                                            alternatives=(Alternative("d", 0.2, None, "d", 4),))]
    assert continuation_ids(path, 1, path[1].alternatives[0]) == [7, 4]
    assert continuation_ids(path, 0, Alternative("x", 0.1, None, "x", 11)) == [11]


def test_a_version_4_project_gains_the_branch_tables(tmp_path):
    root = tmp_path / "old.wbproj"
    root.mkdir()
    con = sqlite3.connect(root / "project.db")
    con.executescript(";\n".join(MIGRATIONS[:4]) + ";\nPRAGMA user_version = 4;")
    con.close()
    with ProjectStore.open(root) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 5
        assert load_trees(store) == []
