"""What the Tokens tab asked for, and saving what came back: a new tree, or a branch of one.

`Request` is the panel's generation request as the branch explorer saw it; `Branch` marks one that
continues a saved text with another token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.core.base.specs import SampleSpec
from workbench.core.project import branch_trees as bt
from workbench.core.project.branch_trees import BranchToken, BranchTree
from workbench.core.project.store import ProjectStore


@dataclass(frozen=True)
class Branch:
    tree_id: int
    parent_id: int
    at_token: int
    token: BranchToken  # the alternative, the branch's first token
    # (the tree's prompt, the exact token ids from there to the alternative); None for a tree saved
    # before ids were kept, which continues from the text
    continue_from: tuple[str, tuple[int, ...]] | None = None


@dataclass(frozen=True)
class Request:
    run: str
    checkpoint: str
    prompt: str
    spec: SampleSpec
    branch: Branch | None = None


def spec_from_settings(settings: dict[str, Any]) -> SampleSpec:
    names = {f.name for f in dataclasses.fields(SampleSpec)}
    known = {k: v for k, v in settings.items() if k in names}
    if "stop" in known:
        known["stop"] = tuple(known["stop"])
    return SampleSpec(**known)


def save_request(store: ProjectStore, request: Request, live: dict[int, list[BranchToken]], shown: int,
                 find_tree: Callable[[int], BranchTree | None]) -> tuple[int, int]:
    """Save the tokens of a finished (or stopped) generation; returns the (tree, node) to show."""
    if request.branch is not None and find_tree(request.branch.tree_id) is not None:
        b = request.branch
        return b.tree_id, bt.add_node(store, b.tree_id, b.parent_id, b.at_token, [b.token, *live.get(0, [])])
    run_id = next((r["id"] for r in store.list_runs() if r["name"] == request.run), None)
    tree_id = bt.create_tree(store, run_id, request.checkpoint, request.prompt, dataclasses.asdict(request.spec))
    nodes = [bt.add_node(store, tree_id, None, None, live[s]) for s in sorted(live)]
    return tree_id, nodes[shown] if 0 <= shown < len(nodes) else nodes[0]
