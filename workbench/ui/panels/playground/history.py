"""The playground's History tab: every generation run from the window, newest first.

Rows live in the project's `generations` table (`core/project/generations.py`), one per sample, so
they survive reopening and list those `workbench generate` saved too. Each line starts with what kind
of generation it was (Generate, a branch, a side-by-side column, fill-mask). Choosing one asks the
panel to put its prompt, settings and text back into the editor (`restoreRequested`; the spec is None
for fill-mask, whose text is the whole filled text); "Export JSONL" writes the list to a file.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.specs import SampleSpec, spec_from_dict
from workbench.core.project import generations
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.forms import plain_label, set_available
from workbench.ui.widgets.plain_text import plain_tooltip
from workbench.ui.wording import for_window


def ask_export_path(parent: QWidget) -> str | None:
    """Where to write the JSONL file, None when cancelled (tests replace this: a dialog would block)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export generations", "generations.jsonl", "JSON Lines (*.jsonl)")
    return path or None


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


KINDS = {"generate": "Generate", "branch": "branch", "side-by-side": "side by side", "fill-mask": "fill-mask"}


def kind_of(settings: dict[str, Any]) -> str:
    """What made the row: "Generate", "branch", "side by side 2" (its column), "fill-mask"."""
    mode = str(settings.get("mode", "generate"))
    kind = KINDS.get(mode, mode)
    column = settings.get("column")
    return f"{kind} {column}" if mode == "side-by-side" and column else kind


def describe(row: dict[str, Any]) -> str:
    """One line: when, what kind, which weights, how sampled, and the start of prompt and text."""
    settings = row["settings"]
    where = f"{row['run'] or 'a deleted run'} step {row['checkpoint_step']}"
    fill = settings.get("mode") == "fill-mask"
    how = f"top {settings.get('top_k', '?')}" if fill else f"T {settings.get('temperature', '?')}"
    stopped = " · stopped" if settings.get("stopped") else ""
    return (f"{str(row['created'])[:16].replace('T', ' ')} · {kind_of(settings)} · {where} · {how}{stopped} · "
            f"{_one_line(row['prompt'], 30)!r} → {_one_line(row['text'], 60)!r}")


class HistoryView(QWidget):
    """objectName `generationHistoryView`; the list is `generationHistory`."""

    restoreRequested = Signal(str, object, str)  # prompt, SampleSpec, text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generationHistoryView")
        self._store: ProjectStore | None = None
        self._rows: list[dict[str, Any]] = []
        self.list = QListWidget()
        self.list.setObjectName("generationHistory")
        self.list.setUniformItemSizes(True)
        self.list.itemActivated.connect(self._restore_item)
        self.list.itemClicked.connect(self._restore_item)
        self.export_button = QPushButton("Export JSONL…")
        self.export_button.setObjectName("exportHistoryButton")
        self.export_button.clicked.connect(self.export)
        self.message = plain_label("")
        self.message.setObjectName("historyMessage")
        bar = QHBoxLayout()
        bar.addWidget(self.message, 1)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(bar)
        self._update_export()

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.message.setText("")
        self.refresh()

    def refresh(self) -> None:
        self._rows = generations.list_generations(self._store) if self._store is not None else []
        self.list.clear()
        for index, row in enumerate(self._rows):
            item = QListWidgetItem(describe(row))
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(plain_tooltip(row["prompt"] + row["text"]))
            self.list.addItem(item)
        self._update_export()

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def restore(self, index: int) -> None:
        """Ask for the `index`-th entry (newest first) to be put back into the editor."""
        row = self._rows[index]
        settings = row["settings"]
        spec = None if settings.get("mode") == "fill-mask" else spec_from_dict(SampleSpec, settings)
        self.restoreRequested.emit(row["prompt"], spec, row["text"])

    @Slot(QListWidgetItem)
    def _restore_item(self, item: QListWidgetItem) -> None:
        self.restore(int(item.data(Qt.ItemDataRole.UserRole)))

    @Slot()
    def export(self) -> bool:
        path = ask_export_path(self)
        if not path:
            return False
        try:
            count = generations.export_jsonl(self._rows, path)
        except WorkbenchError as exc:
            self.message.setText(for_window(str(exc)))
            return False
        self.message.setText(f"Exported {count:,} generation{'s' if count != 1 else ''} to {path}.")
        return True

    def _update_export(self) -> None:
        set_available(self.export_button, bool(self._rows), "No generations to export yet",
                      "Write these generations to a JSON Lines file")
