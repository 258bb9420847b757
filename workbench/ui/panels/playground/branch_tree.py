"""The branch trees of the project as a tree widget: generations, their samples, and the branches.

Each item keeps (tree id, node id) in its data; a generation's own item has node id None. Labels
are plain text (QTreeWidgetItem never interprets markup), excerpts of the node's own tokens.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from workbench.core.project.branch_trees import BranchNode, BranchTree, node_path

Key = tuple[int, int | None]  # (tree id, node id or None for the generation itself)
_KEY = Qt.ItemDataRole.UserRole
EXCERPT = 40


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT - 1] + "…"


def node_label(tree: BranchTree, node: BranchNode, sample: int) -> str:
    own = "".join(t.text for t in node.tokens)
    if node.parent_id is None:
        return f"Sample {sample + 1}: {_excerpt(own)}"
    replaced = node_path(tree, node.parent_id)[node.at_token or 0:][:1]
    was = repr(replaced[0].text) if replaced else "the end"
    return f"At token {(node.at_token or 0) + 1}: {was} -> {_excerpt(own)}"


def tree_label(tree: BranchTree) -> str:
    run = tree.run_name or "a deleted run"
    return f"{_excerpt(tree.prompt) or '(empty prompt)'}  [{run} @ {tree.checkpoint}, {tree.created[:16].replace('T', ' ')}]"


class BranchTreeWidget(QTreeWidget):
    """objectName `branchTree`: select one node to read it, two to compare them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("branchTree")
        self.setHeaderLabels(["Generations and branches", "Mean log p"])
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Select a node to read its text; select two (Ctrl+click) to see where they differ")
        self._items: dict[Key, QTreeWidgetItem] = {}

    def set_trees(self, trees: list[BranchTree]) -> None:
        chosen = self.selected_keys()
        self.blockSignals(True)
        try:
            self.clear()
            self._items = {}
            for tree in reversed(trees):  # newest first
                top = QTreeWidgetItem([tree_label(tree), ""])
                top.setData(0, _KEY, (tree.id, None))
                top.setToolTip(0, tree.prompt)
                self.addTopLevelItem(top)
                self._items[(tree.id, None)] = top
                self._add_nodes(tree, top)
                top.setExpanded(True)
            for key in chosen:
                if key in self._items:
                    self._items[key].setSelected(True)
        finally:
            self.blockSignals(False)

    def _add_nodes(self, tree: BranchTree, top: QTreeWidgetItem) -> None:
        samples = 0
        for node in tree.nodes:  # made in order: a parent always comes before its branches
            parent = top if node.parent_id is None else self._items.get((tree.id, node.parent_id))
            if parent is None:
                continue
            mean = node.mean_logprob()
            item = QTreeWidgetItem([node_label(tree, node, samples), "" if mean is None else f"{mean:.3f}"])
            samples += node.parent_id is None
            item.setData(0, _KEY, (tree.id, node.id))
            parent.addChild(item)
            parent.setExpanded(True)
            self._items[(tree.id, node.id)] = item

    def selected_keys(self) -> list[Key]:
        return [tuple(item.data(0, _KEY)) for item in self.selectedItems()]  # type: ignore[misc]

    def select(self, key: Key) -> bool:
        item = self._items.get(key)
        if item is None:
            return False
        self.clearSelection()
        self.setCurrentItem(item)
        item.setSelected(True)
        self.scrollToItem(item)
        return True

    def item_for(self, key: Key) -> QTreeWidgetItem | None:
        return self._items.get(key)
