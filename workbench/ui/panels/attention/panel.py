"""The attention panel: how a trained model attends over a text, per layer and head.

It shows the attention snapshots a run saved while training (`attention_snapshots` rows: a fixed
probe text at each evaluation, float16 [layers, heads, T, T] in an .npz) and, when the attention
engine is available, the attention of any text typed into `attentionTextEdit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.forms import fill_run_combo, plain_label, set_available
from workbench.ui.widgets.heatmap import AttentionHeatmap
from workbench.ui.widgets.scrolling import scroll_area

MEAN = -1


class AttentionPanel(QWidget):
    """objectName `attentionPanel`. Emits `attentionRequested(run name, text)`."""

    attentionRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionPanel")
        self._store: ProjectStore | None = None
        self._engine_missing = ""  # why not, when the warm-up cannot load the engine
        self._weights = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self._tokens: list[str] = []

        self.run = QComboBox()
        self.run.setObjectName("attentionRunCombo")
        self.snapshot = QComboBox()
        self.snapshot.setObjectName("attentionSnapshotCombo")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("attentionTextEdit")
        self.text_edit.setPlaceholderText("Type a text to see how the model attends to it")
        self.text_edit.setMaximumHeight(72)
        self.layer = QSpinBox()
        self.layer.setObjectName("attentionLayerSpin")
        self.head = QComboBox()
        self.head.setObjectName("attentionHeadCombo")
        self.show_button = QPushButton("Show Attention")
        self.show_button.setObjectName("showAttentionButton")
        self.show_button.clicked.connect(self.request_attention)
        self.heatmap = AttentionHeatmap(empty_text="Pick a run with saved attention snapshots, or type a text.")
        self.notice = plain_label("")
        self.notice.setObjectName("attentionNotice")

        form = QFormLayout()
        form.addRow("Run", self.run)
        form.addRow("Saved snapshot", self.snapshot)
        view = QHBoxLayout()
        view.addWidget(plain_label("Layer", wrap=False))
        view.addWidget(self.layer)
        view.addWidget(plain_label("Head", wrap=False))
        view.addWidget(self.head, 1)
        view.addWidget(self.show_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.text_edit)
        layout.addLayout(view)
        layout.addWidget(self.heatmap, 1)
        layout.addWidget(self.notice)
        QVBoxLayout(self).addWidget(scroll_area(body))  # the tabbed dock may be shorter than the map needs

        self.run.currentIndexChanged.connect(self._load_snapshot_list)
        self.run.currentIndexChanged.connect(self._update_button)
        self.snapshot.currentIndexChanged.connect(self._load_snapshot)
        self.layer.valueChanged.connect(self._render)
        self.head.currentIndexChanged.connect(self._render)
        self._update_button()

    # ---- inputs from MainWindow ----------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        fill_run_combo(self.run, self._store.list_runs() if self._store else [])
        self._load_snapshot_list()
        self._update_button()

    def set_attention_available(self, available: bool, reason: str = "") -> None:
        self._engine_missing = "" if available else reason
        self._update_button()

    def show_attention(self, weights: np.ndarray, tokens: list[str] | tuple[str, ...], notice: str = "") -> None:
        """Show a [layers, heads, T, T] map with its token labels."""
        weights = np.asarray(weights)
        if weights.ndim != 4 or weights.shape[-1] != len(tokens) or weights.shape[-2] != len(tokens):
            raise WorkbenchError(f"the attention map has shape {weights.shape} for {len(tokens)} tokens; "
                                 "it cannot be shown")
        self._weights, self._tokens = weights, list(tokens)
        layers, heads = weights.shape[:2]
        self.layer.blockSignals(True)
        self.layer.setRange(0, layers - 1)
        self.layer.setValue(min(self.layer.value(), layers - 1))
        self.layer.blockSignals(False)
        self.head.blockSignals(True)
        previous = self.head.currentData()
        self.head.clear()
        self.head.addItem("Mean of heads", MEAN)
        for h in range(heads):
            self.head.addItem(f"Head {h}", h)
        index = self.head.findData(previous)
        self.head.setCurrentIndex(max(index, 0))
        self.head.blockSignals(False)
        self.notice.setText(notice)
        self._render()

    # ---- requests ------------------------------------------------------------------------------

    def request_attention(self) -> bool:
        text = self.text_edit.toPlainText()
        if not self.show_button.isEnabled():
            return False
        if not text.strip():
            self.notice.setText("Type a text first.")
            return False
        self.attentionRequested.emit(self.run.currentData(), text)
        return True

    def _update_button(self) -> None:
        reason = self._engine_missing or ("" if self.run.count() else "Train a run first: attention needs a model.")
        name = self.run.currentData()
        if not reason and self._store is not None and name is not None and not self._store.query(
                "SELECT 1 FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = ? LIMIT 1", (name,)):
            reason = (f"{name} has no checkpoint yet: attention of a typed text needs one (a run saves its "
                      "first at its first evaluation).")
        set_available(self.show_button, not reason, reason, "Compute the attention of the typed text")

    # ---- saved snapshots -----------------------------------------------------------------------

    def _load_snapshot_list(self) -> None:
        self.snapshot.blockSignals(True)
        self.snapshot.clear()
        for row in self._snapshot_rows():
            self.snapshot.addItem(f"step {row['step']}", row["path"])
        self.snapshot.setCurrentIndex(self.snapshot.count() - 1)
        self.snapshot.blockSignals(False)
        self._load_snapshot()

    def _snapshot_rows(self) -> list[dict[str, Any]]:
        name = self.run.currentData()
        if self._store is None or name is None:
            return []
        return self._store.query(
            "SELECT s.step, s.path FROM attention_snapshots s JOIN runs r ON r.id = s.run_id "
            "WHERE r.name = ? ORDER BY s.step", (name,))

    def _load_snapshot(self) -> None:
        path = self.snapshot.currentData()
        if self._store is None or not path:
            self._weights, self._tokens = np.zeros((0, 0, 0, 0), dtype=np.float32), []
            self.heatmap.clear_matrix()
            self.notice.setText("")
            return
        try:
            with np.load(self._store.path(path, what="an attention snapshot"), allow_pickle=False) as data:
                weights, tokens = data["weights"], [str(t) for t in data["tokens"]]
        except (OSError, KeyError, ValueError, WorkbenchError) as exc:  # WorkbenchError: a path outside the project
            self.heatmap.clear_matrix()
            self.notice.setText(f"The snapshot {path} cannot be read ({exc}).")
            return
        self.show_attention(weights, tokens, f"Saved while training, {self.snapshot.currentText()}.")

    def _render(self) -> None:
        if not self._weights.size:
            self.heatmap.clear_matrix()
            return
        layer = self._weights[self.layer.value()].astype(np.float32)
        head = self.head.currentData()
        matrix = layer.mean(axis=0) if head in (None, MEAN) else layer[head]
        self.heatmap.set_matrix(matrix, self._tokens)
