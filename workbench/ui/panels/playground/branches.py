"""The Tokens tab: the generated text token by token, its branch tree, and the samples list.

Every generation from the window becomes a tree saved in the project (`core/project/branch_trees`):
its samples are the roots. Clicking a token offers its alternatives; choosing one asks for a new
generation from the prompt, the text up to that token and the alternative (`branchRequested`, which
the panel turns into its ordinary `generateRequested`), and the result hangs below the node that made
the token. The panel tells this explorer what it asked for (`requested`, connected to the panel's
`generateRequested`), when the output starts (`begin`), each batch of events (`add`) and the end
(`finish`), the same way it feeds the history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import TokenGenerated
from workbench.core.project import branch_trees as bt
from workbench.core.project.branch_trees import BranchToken, BranchTree
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.playground.branch_requests import Branch, Request, save_request, spec_from_settings
from workbench.ui.panels.playground.branch_tree import BranchTreeWidget
from workbench.ui.panels.playground.samples_list import SampleRow, SamplesList
from workbench.ui.panels.playground.token_colors import PROBABILITY, SURPRISE, ColorLegend
from workbench.ui.panels.playground.token_view import ProbabilityView
from workbench.ui.widgets.forms import plain_label
from workbench.ui.widgets.plain_text import ask_yes_no
from workbench.ui.wording import for_window


class BranchExplorer(QWidget):
    """objectName `branchExplorer`. `branchRequested(run, checkpoint, prompt, SampleSpec)`."""

    branchRequested = Signal(str, str, str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("branchExplorer")
        self._store: ProjectStore | None = None
        self.trees: list[BranchTree] = []
        self._pending: Branch | None = None  # a branch asked for, before the panel's request
        self._next: Request | None = None
        self._current: Request | None = None
        self._live: dict[int, list[BranchToken]] = {}
        self._shown_live = -1  # the sample streaming into the view
        self._shown: tuple[int, int] | None = None  # (tree, node) the view shows, once saved

        self.toggle = QToolButton()
        self.toggle.setObjectName("probabilityToggle")
        self.toggle.setText("Colour by probability")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Colour each generated token by how likely the model found it")
        self.mode = QComboBox()
        self.mode.setObjectName("probabilityMode")
        self.mode.addItem("probability", PROBABILITY)
        self.mode.addItem("surprise (-log2 p)", SURPRISE)
        self.legend = ColorLegend()
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareBranchesButton")
        self.compare_button.setToolTip("Select two nodes in the tree (Ctrl+click) to see where their texts differ")
        self.prune_button = QPushButton("Delete branch")
        self.prune_button.setObjectName("pruneBranchButton")
        self.view = ProbabilityView()
        self.tree = BranchTreeWidget()
        self.samples = SamplesList()  # the panel shows it as its own tab
        self.message = plain_label("")
        self.message.setObjectName("branchMessage")

        bar = QHBoxLayout()
        for widget in (self.toggle, self.mode):
            bar.addWidget(widget)
        bar.addWidget(self.legend, 1)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.prune_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(self.view)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

        self.toggle.toggled.connect(self._recolor)
        self.mode.currentIndexChanged.connect(self._recolor)
        self.view.branchRequested.connect(self.branch_from)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.compare_button.clicked.connect(self.compare_selected)
        self.prune_button.clicked.connect(self.prune_selected)
        self.samples.sampleChosen.connect(self._sample_chosen)
        self._recolor()
        self._update_buttons()

    # ---- the project ---------------------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self._shown = None
        self.reload()
        self.view.show_text("", [])
        self.samples.set_rows([])

    def reload(self) -> None:
        try:
            self.trees = bt.load_trees(self._store) if self._store is not None else []
        except WorkbenchError as exc:
            self.trees = []
            self.message.setText(f"The saved branches could not be read: {for_window(str(exc))}")
        self.tree.set_trees(self.trees)
        self._update_buttons()

    def find_tree(self, tree_id: int) -> BranchTree | None:
        return next((t for t in self.trees if t.id == tree_id), None)

    # ---- a generation streaming in --------------------------------------------------------------

    @Slot(str, str, str, object)
    def requested(self, run: str, checkpoint: str, prompt: str, spec: Any) -> None:
        """The panel asked for a generation (connected before the window's job controller)."""
        self._next = Request(str(run), str(checkpoint), prompt, spec, self._pending)
        self._pending = None

    def continuation(self, prompt: str) -> tuple[str, tuple[int, ...]] | None:
        """For the generation just asked for with `prompt`: where a branch continues from exact tokens,
        (the tree's prompt, their ids); None for anything else."""
        request = self._next
        if request is None or request.branch is None or request.prompt != prompt:
            return None
        return request.branch.continue_from

    def begin(self) -> None:
        self._current, self._next = self._next, None
        self._live, self._shown_live, self._shown = {}, -1, None
        self.message.setText("")
        self.samples.set_rows([])
        self._show_live(0)

    def add(self, events: Iterable[Any]) -> None:
        fresh: list[BranchToken] = []
        for event in events:
            if not isinstance(event, TokenGenerated):
                continue
            token = bt.token_from_event(event)
            self._live.setdefault(event.sample, []).append(token)
            if event.sample != self._shown_live:
                self._show_live(event.sample)  # shows the tokens so far, this one included
                fresh = []
            else:
                fresh.append(token)
        if fresh:
            self.view.append(fresh)
        if self._live:
            self._update_samples()

    def _prefix(self) -> tuple[str, list[BranchToken]]:
        """What the text streaming in follows: the prompt, and for a branch the path up to its token."""
        request = self._current
        if request is None or request.branch is None:
            return (request.prompt if request else ""), []
        tree = self.find_tree(request.branch.tree_id)
        if tree is None:
            return request.prompt, []
        path = bt.node_path(tree, request.branch.parent_id)[:request.branch.at_token]
        return tree.prompt, [*path, request.branch.token]

    def _show_live(self, sample: int) -> None:
        self._shown_live = sample
        prompt, before = self._prefix()
        self.view.show_text(prompt, [*before, *self._live.get(sample, [])])

    def _update_samples(self) -> None:
        rows = []
        for sample in sorted(self._live):
            node = bt.BranchNode(0, None, None, tuple(self._live[sample]))
            rows.append(SampleRow(f"{sample + 1}", node.mean_logprob(), len(node.tokens),
                                  "".join(t.text for t in node.tokens)))
        self.samples.set_rows(rows)

    def finish(self, store: ProjectStore | None, outcome: str) -> str:
        """Save the generation now shown as a tree (or a branch); returns "" or why it was not saved."""
        request, self._current = self._current, None
        if request is None or store is None or outcome not in ("finished", "stopped") or not self._live:
            return ""
        if store.read_only:
            return "The project is read-only, so this generation's branch tree is not saved."
        try:
            key = save_request(store, request, self._live, self._shown_live, self.find_tree)
        except WorkbenchError as exc:
            return f"The branch tree could not be saved: {for_window(str(exc))}"
        self.reload()
        self.tree.select(key)
        return ""

    # ---- walking, comparing, pruning, branching ------------------------------------------------

    def _selection_changed(self) -> None:
        keys = self.tree.selected_keys()
        self._update_buttons()
        if len(keys) == 2 and all(node is not None for _, node in keys):
            self.compare_selected()
        elif len(keys) == 1:
            self.show_node(*keys[0])

    def show_node(self, tree_id: int, node_id: int | None) -> None:
        tree = self.find_tree(tree_id)
        if tree is None or not tree.nodes:
            return
        node_id = tree.nodes[0].id if node_id is None else node_id
        self._shown = (tree_id, node_id)
        self.view.show_text(tree.prompt, bt.node_path(tree, node_id))
        self.message.setText("Click a token to continue from it with one of its alternatives.")
        roots = [n for n in tree.nodes if n.parent_id is None]
        self.samples.set_rows([SampleRow(f"{i + 1}", n.mean_logprob(), len(n.tokens), "".join(t.text for t in n.tokens))
                               for i, n in enumerate(roots)])

    def _sample_chosen(self, row: int) -> None:
        if self._current is not None:
            if row in self._live:
                self._show_live(row)
            return
        tree = self.find_tree(self._shown[0]) if self._shown else None
        roots = [n for n in tree.nodes if n.parent_id is None] if tree else []
        if tree is not None and 0 <= row < len(roots):
            self.tree.select((tree.id, roots[row].id))

    def compare_selected(self) -> bool:
        keys = [k for k in self.tree.selected_keys() if k[1] is not None]
        if len(keys) != 2:
            self.message.setText("Select two nodes in the tree (Ctrl+click) to compare them.")
            return False
        (ta, na), (tb, nb) = keys
        first, second = self.find_tree(ta), self.find_tree(tb)
        if first is None or second is None or na is None or nb is None:
            return False
        a, b = bt.node_path(first, na), bt.node_path(second, nb)
        differ = bt.first_difference(a, b) if first.prompt == second.prompt else 0
        self.view.compare_with((first.prompt, a), (second.prompt, b), differ)
        same = "the same prompt" if first.prompt == second.prompt else "different prompts"
        self.message.setText(f"From {same}, the texts share their first {differ} generated tokens and differ "
                             f"from token {differ + 1} on (marked).")
        return True

    def prune_selected(self) -> bool:
        keys = self.tree.selected_keys()
        if len(keys) != 1 or self._store is None:
            return False
        tree_id, node_id = keys[0]
        what = "this generation and all its branches" if node_id is None else "this node and every branch below it"
        if not ask_yes_no(self, "Delete branch", f"Delete {what} from the project?"):
            return False
        try:
            if node_id is None:
                bt.delete_tree(self._store, tree_id)
            else:
                bt.delete_node(self._store, node_id)
        except WorkbenchError as exc:
            self.message.setText(f"Not deleted: {for_window(str(exc))}")
            return False
        self._shown = None
        self.view.show_text("", [])
        self.reload()
        return True

    @Slot(int, int)
    def branch_from(self, index: int, alternative: int) -> bool:
        """Continue the text shown from token `index` with its alternative number `alternative`."""
        tree = self.find_tree(self._shown[0]) if self._shown else None
        if tree is None or self._shown is None or self._current is not None:
            self.message.setText("Wait for the generation to end, then click a token to branch from it.")
            return False
        path = bt.node_path(tree, self._shown[1])
        alt = path[index].alternatives[alternative]
        if not alt.text:
            return False
        token = BranchToken(alt.text, alt.prob, alt.prob_sampled, path[index].alternatives, alt.token_id)
        ids = bt.continuation_ids(path, index, alt)
        self._pending = Branch(tree.id, bt.token_owner(tree, self._shown[1], index), index, token,
                               None if ids is None else (tree.prompt, tuple(ids)))
        prompt = tree.prompt + "".join(t.text for t in path[:index]) + alt.text
        spec = dataclasses.replace(spec_from_settings(tree.settings), num_samples=1)
        self.branchRequested.emit(tree.run_name, tree.checkpoint, prompt, spec)
        started = self._pending is None  # `requested` took it: the panel asked for the generation
        self._pending = None  # a refused request must not turn the next ordinary one into a branch
        return started

    def _recolor(self) -> None:
        mode = self.mode.currentData() or PROBABILITY
        self.legend.set_mode(mode)
        self.legend.setVisible(self.toggle.isChecked())
        self.mode.setEnabled(self.toggle.isChecked())
        self.view.set_coloring(self.toggle.isChecked(), mode)

    def _update_buttons(self) -> None:
        keys = self.tree.selected_keys()
        self.prune_button.setEnabled(len(keys) == 1 and self._store is not None and not self._store.read_only)
        self.compare_button.setEnabled(len([k for k in keys if k[1] is not None]) == 2)
