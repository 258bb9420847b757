"""Branch trees of the playground, saved in the project (tables `branch_trees`, `branch_nodes`).

A tree is one generation from the window: its prompt, settings, run and checkpoint. Each sample it
drew is a root node; a branch is a node whose parent it continues from the parent's token
`at_token` on, with another token (one of that token's alternatives) instead. A node stores only its
own tokens, the branch token first; `at_token` counts tokens of the parent's whole text after the
prompt, so a node's text is the prompt, then its parent's tokens up to the branch point, then its
own tokens (`node_path`).

    tree = create_tree(store, run_id, "latest", "To be", settings)
    root = add_node(store, tree, None, None, tokens)
    child = add_node(store, tree, root, 4, [alternative_token, *generated])
    for tree in load_trees(store): ...              # oldest first, each with its nodes
    delete_node(store, root)                        # and its whole subtree (ON DELETE CASCADE)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.core.base.events import TokenGenerated
from workbench.core.project.store import ProjectStore, now_iso


@dataclass(frozen=True)
class Alternative:
    name: str  # display form (space as "·")
    prob: float  # the model's own probability
    prob_sampled: float | None  # after the sampler; None where it was not recorded
    text: str  # what continuing with it appends
    token_id: int | None = None  # None in trees saved before ids were kept


@dataclass(frozen=True)
class BranchToken:
    text: str
    prob: float
    prob_sampled: float | None = None
    alternatives: tuple[Alternative, ...] = ()
    token_id: int | None = None  # None in trees saved before ids were kept

    def to_json(self) -> list[Any]:
        return [self.text, self.prob, self.prob_sampled,
                [[a.name, a.prob, a.prob_sampled, a.text, a.token_id] for a in self.alternatives], self.token_id]

    @classmethod
    def from_json(cls, item: Sequence[Any]) -> BranchToken:
        text, prob, sampled, alternatives, *rest = item  # a fifth item, the id, since ids were kept
        return cls(str(text), float(prob), _float_or_none(sampled),
                   tuple(Alternative(str(a[0]), float(a[1]), _float_or_none(a[2]), str(a[3]), _int_or_none(a[4:]))
                         for a in alternatives), _int_or_none(rest))


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _int_or_none(rest: Sequence[Any]) -> int | None:
    """The optional last item of a saved token: an id, or nothing in an older tree."""
    return int(rest[0]) if rest and rest[0] is not None else None


def token_from_event(event: TokenGenerated) -> BranchToken:
    sampled = event.alternatives_sampled or (None,) * len(event.alternatives)
    texts = event.alternative_texts or tuple(name for name, _ in event.alternatives)
    ids: Sequence[int | None] = event.alternative_ids or (None,) * len(event.alternatives)
    return BranchToken(event.text, event.prob, event.prob_sampled,
                       tuple(Alternative(name, prob, after, text, token_id) for (name, prob), after, text, token_id
                             in zip(event.alternatives, sampled, texts, ids, strict=True)), event.token_id)


def continuation_ids(path: Sequence[BranchToken], index: int, alternative: Alternative) -> list[int] | None:
    """The exact token ids of `path[:index]` followed by `alternative`, or None where a tree saved
    before ids were kept lacks one (then the caller continues from the text)."""
    ids = [token.token_id for token in path[:index]] + [alternative.token_id]
    return None if any(i is None for i in ids) else [int(i) for i in ids if i is not None]


@dataclass(frozen=True)
class BranchNode:
    id: int
    parent_id: int | None
    at_token: int | None
    tokens: tuple[BranchToken, ...]
    created: str = ""

    def mean_logprob(self) -> float | None:
        """Mean natural-log probability per token of this node's own tokens (None when it has none)."""
        if not self.tokens:
            return None
        return sum(math.log(max(t.prob, 1e-45)) for t in self.tokens) / len(self.tokens)


@dataclass(frozen=True)
class BranchTree:
    id: int
    run_id: int | None
    run_name: str
    checkpoint: str
    prompt: str
    settings: dict[str, Any]
    created: str
    nodes: tuple[BranchNode, ...] = field(default=())

    def node(self, node_id: int) -> BranchNode:
        return next(n for n in self.nodes if n.id == node_id)


def create_tree(store: ProjectStore, run_id: int | None, checkpoint: str, prompt: str,
                settings: dict[str, Any]) -> int:
    store.require_writable("save the branch tree")
    return store.insert("branch_trees", {"run_id": run_id, "checkpoint": str(checkpoint), "prompt": prompt,
                                         "settings": settings, "created": now_iso()})


def add_node(store: ProjectStore, tree_id: int, parent_id: int | None, at_token: int | None,
             tokens: Sequence[BranchToken]) -> int:
    store.require_writable("save the branch")
    return store.insert("branch_nodes", {"tree_id": tree_id, "parent_id": parent_id, "at_token": at_token,
                                         "tokens": json.dumps([t.to_json() for t in tokens]),
                                         "created": now_iso()})


def delete_node(store: ProjectStore, node_id: int) -> None:
    """Remove a node and every branch below it; a tree left without nodes goes too."""
    store.require_writable("prune the branch tree")
    with store.transaction() as conn:
        found = conn.execute("SELECT tree_id FROM branch_nodes WHERE id = ?", (node_id,)).fetchone()
        conn.execute("DELETE FROM branch_nodes WHERE id = ?", (node_id,))  # children: ON DELETE CASCADE
        if found is not None:
            conn.execute("DELETE FROM branch_trees WHERE id = ? AND NOT EXISTS "
                         "(SELECT 1 FROM branch_nodes WHERE tree_id = ?)", (found[0], found[0]))


def delete_tree(store: ProjectStore, tree_id: int) -> None:
    store.require_writable("delete the branch tree")
    store.execute("DELETE FROM branch_trees WHERE id = ?", (tree_id,))


def load_trees(store: ProjectStore) -> list[BranchTree]:
    """Every tree, oldest first, with its nodes in the order they were made."""
    nodes: dict[int, list[BranchNode]] = {}
    for row in store.query("SELECT * FROM branch_nodes ORDER BY id"):
        tokens = tuple(BranchToken.from_json(item) for item in json.loads(row["tokens"]))
        nodes.setdefault(row["tree_id"], []).append(
            BranchNode(row["id"], row["parent_id"], row["at_token"], tokens, row["created"]))
    trees = []
    for row in store.query("SELECT t.*, r.name AS run_name FROM branch_trees t LEFT JOIN runs r ON r.id = t.run_id "
                           "ORDER BY t.id"):
        settings = json.loads(row["settings"]) if row["settings"] else {}
        trees.append(BranchTree(row["id"], row["run_id"], row["run_name"] or "", row["checkpoint"], row["prompt"],
                                settings, row["created"], tuple(nodes.get(row["id"], ()))))
    return trees


def node_path(tree: BranchTree, node_id: int) -> list[BranchToken]:
    """Every token of the node's text after the prompt: its parent's up to the branch point, then its own."""
    node = tree.node(node_id)
    if node.parent_id is None:
        return list(node.tokens)
    return [*node_path(tree, node.parent_id)[:node.at_token or 0], *node.tokens]


def token_owner(tree: BranchTree, node_id: int, index: int) -> int:
    """The node that made token `index` of node `node_id`'s path: a branch from that token hangs below it."""
    node = tree.node(node_id)
    while node.parent_id is not None and index < (node.at_token or 0):
        node = tree.node(node.parent_id)
    return node.id


def node_text(tree: BranchTree, node_id: int) -> str:
    return tree.prompt + "".join(t.text for t in node_path(tree, node_id))


def first_difference(first: Sequence[BranchToken], second: Sequence[BranchToken]) -> int:
    """Index of the first token where two paths differ (the shorter length when one extends the other)."""
    for index, (a, b) in enumerate(zip(first, second, strict=False)):
        if a != b:
            return index
    return min(len(first), len(second))
