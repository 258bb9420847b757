"""The attention panel's list of saved snapshots: the fixed probe text's attention a run saved at each
evaluation (`attention_snapshots` rows, float16 [layers, heads, T, T] in an .npz).

Kept out of `panel.py` so the panel stays a list of widgets. The combo (objectName
`attentionSnapshotCombo`) lists the chosen run's snapshots by step; choosing one reads its file and
emits `loaded(weights, tokens, notice)`. While a run trains the list is refilled only when it
changed, and a new snapshot is followed when the newest was shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore

_PROBE_ROLE = Qt.ItemDataRole.UserRole + 1  # the snapshot's text


class SnapshotList(QObject):
    """`loaded(weights, tokens, notice)`: a snapshot was read; `emptied()`: the run has none (or no
    project is open); `unreadable(message)`: the chosen file cannot be read (said in plain text)."""

    loaded = Signal(object, object, str)
    emptied = Signal()
    unreadable = Signal(str)

    def __init__(self, store: Callable[[], ProjectStore | None], run: QComboBox, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store, self._run = store, run
        self.combo = QComboBox()
        self.combo.setObjectName("attentionSnapshotCombo")
        self.showing = False  # the panel shows a snapshot (not a typed text's map): follow new ones
        self.combo.currentIndexChanged.connect(self.load)

    def reload(self) -> None:
        """Another run: list its snapshots and show the newest."""
        self._fill(self._rows(), None)
        self.load()

    def update(self, shows_a_map: bool) -> None:
        """Refill the list only when it changed; keep the snapshot shown, or follow the newest
        (when the newest was shown, or the panel shows nothing)."""
        rows = self._rows()
        listed = [self.combo.itemData(i) for i in range(self.combo.count())]
        if listed == [row["path"] for row in rows]:
            return
        newest = self.combo.currentIndex() == self.combo.count() - 1
        keep = None if newest and (self.showing or not shows_a_map) else self.combo.currentData()
        self._fill(rows, keep)
        if self.combo.currentData() != keep:
            self.load()

    def _fill(self, rows: list[dict[str, Any]], keep: str | None) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for row in rows:
            self.combo.addItem(f"step {row['step']}", row["path"])
            self.combo.setItemData(self.combo.count() - 1, row.get("probe_text") or "", _PROBE_ROLE)
        index = self.combo.findData(keep) if keep is not None else -1
        self.combo.setCurrentIndex(index if index >= 0 else self.combo.count() - 1)
        self.combo.blockSignals(False)

    def _rows(self) -> list[dict[str, Any]]:
        store, name = self._store(), self._run.currentData()
        if store is None or name is None:
            return []
        return store.query(
            "SELECT s.step, s.path, s.probe_text FROM attention_snapshots s JOIN runs r ON r.id = s.run_id "
            "WHERE r.name = ? ORDER BY s.step", (name,))

    def probe_text(self) -> str:
        """The text the chosen snapshot shows ("" when none is chosen)."""
        text = self.combo.currentData(_PROBE_ROLE)
        return text if isinstance(text, str) else ""

    def load(self) -> None:
        """Read the chosen snapshot and emit it."""
        path, store = self.combo.currentData(), self._store()
        if store is None or not path:
            self.emptied.emit()
            return
        try:
            with np.load(store.path(path, what="an attention snapshot"), allow_pickle=False) as data:
                weights, tokens = data["weights"], [str(t) for t in data["tokens"]]
        except (OSError, KeyError, ValueError, WorkbenchError) as exc:  # WorkbenchError: a path outside the project
            self.unreadable.emit(f"The snapshot {path} cannot be read ({exc}).")
            return
        self.loaded.emit(weights, tokens, f"Saved while training, {self.combo.currentText()}.")
        self.showing = True  # after `loaded`: showing a map sets it False
