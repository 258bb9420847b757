"""The samples a run generated at each evaluation, listed by step beside the curves.

Picking a sample (or a validation point on the curves, through `select_step`) picks that step's
checkpoint too; "Open in Playground" and "Open in Attention" then ask for that checkpoint in those
panels (`openRequested(target, run id, checkpoint step)`, routed by the main window). Without a
checkpoint kept at that step the buttons are disabled and say so.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.checkpoint_history import set_pinned
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.forms import plain_label, set_available
from workbench.ui.widgets.plain_text import plain_tooltip

_STEP_ROLE = Qt.ItemDataRole.UserRole
PREVIEW_CHARS = 60


class SamplesView(QWidget):
    openRequested = Signal(str, int, int)  # "playground" | "attention", run id, checkpoint step
    stepSelected = Signal(int)
    pinChanged = Signal(int, int, bool)  # run id, checkpoint step, pinned: its marker on the curves changes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("samplesView")
        self._store: ProjectStore | None = None
        self._run: int | None = None
        self._checkpoints: set[int] = set()
        self._pinned: set[int] = set()
        self.list = QListWidget()
        self.list.setObjectName("samplesList")
        self.list.setMinimumSize(110, 40)
        self.text = QPlainTextEdit()
        self.text.setObjectName("sampleText")
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("The sample the run wrote at the chosen evaluation.")
        self.text.setMaximumHeight(48)
        self.where = plain_label("")
        self.where.setObjectName("sampleCheckpoint")
        self.playground_button = QPushButton("Open in Playground")
        self.playground_button.setMinimumWidth(40)
        self.playground_button.setObjectName("openInPlaygroundButton")
        self.attention_button = QPushButton("Open in Attention")
        self.attention_button.setMinimumWidth(40)
        self.attention_button.setObjectName("openInAttentionButton")
        self.playground_button.clicked.connect(lambda: self._open("playground"))
        self.attention_button.clicked.connect(lambda: self._open("attention"))
        self.pin_button = QPushButton("Pin Checkpoint")
        self.pin_button.setObjectName("pinCheckpointButton")
        self.pin_button.setCheckable(True)
        self.pin_button.setMinimumWidth(40)
        self.pin_button.toggled.connect(self._pin_toggled)
        buttons = QVBoxLayout()  # one above the other: beside the curves the column is narrow
        buttons.addWidget(self.playground_button)
        buttons.addWidget(self.attention_button)
        buttons.addWidget(self.pin_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.text)
        layout.addWidget(self.where)
        layout.addLayout(buttons)
        self.list.currentItemChanged.connect(self._picked)
        self._update_buttons()

    def show_run(self, store: ProjectStore | None, run_id: int | None) -> None:
        """List the samples of `run_id` (keeping the chosen step when it is still there)."""
        keep = self.selected_step() if run_id == self._run else None
        self._store, self._run = store, run_id
        rows: list[dict[str, Any]] = []
        self._checkpoints, self._pinned = set(), set()
        if store is not None and run_id is not None:
            try:
                rows = store.rows("samples", "run_id = ?", (run_id,), order_by="step")
                checkpoints = store.list_checkpoints(run_id)
                self._checkpoints = {row["step"] for row in checkpoints}
                self._pinned = {row["step"] for row in checkpoints if row.get("pinned")}
            except WorkbenchError:  # the run was deleted meanwhile
                rows = []
        self.list.blockSignals(True)
        self.list.clear()
        for row in rows:
            first = " ".join(row["text"].split())[:PREVIEW_CHARS] or "(blank)"
            item = QListWidgetItem(f"step {row['step']}: {first}")
            item.setData(_STEP_ROLE, row["step"])
            item.setData(_STEP_ROLE + 1, row["text"])
            item.setToolTip(plain_tooltip(row["text"][:2000]))
            self.list.addItem(item)
        self.list.blockSignals(False)
        if keep is not None and self.select_step(keep, emit=False):
            return
        self.text.clear()
        self.where.setText("")
        self._update_buttons()

    def run_id(self) -> int | None:
        return self._run

    def steps(self) -> list[int]:
        return [self.list.item(i).data(_STEP_ROLE) for i in range(self.list.count())]

    def selected_step(self) -> int | None:
        item = self.list.currentItem()
        return item.data(_STEP_ROLE) if item is not None else None

    def select_step(self, step: int, emit: bool = True) -> bool:
        """Pick the sample (and checkpoint) of `step`; False when the run has no sample there."""
        for i in range(self.list.count()):
            if self.list.item(i).data(_STEP_ROLE) == step:
                self.list.blockSignals(not emit)
                self.list.setCurrentRow(i)
                self.list.blockSignals(False)
                self._show(self.list.item(i))
                return True
        return False

    def _picked(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        self._show(item)
        if item is not None:
            self.stepSelected.emit(int(item.data(_STEP_ROLE)))

    def _show(self, item: QListWidgetItem | None) -> None:
        if item is None:
            self.text.clear()
            self.where.setText("")
        else:
            step = int(item.data(_STEP_ROLE))
            self.text.setPlainText(item.data(_STEP_ROLE + 1))
            kept = step in self._checkpoints
            self.where.setText(f"Step {step}: checkpoint kept." if kept else f"Step {step}: no checkpoint kept.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        step = self.selected_step()
        if self._run is None:
            reason = "Select a run first."
        elif step is None:
            reason = "Pick a sample or a validation point first."
        elif step not in self._checkpoints:
            reason = f"No checkpoint was kept at step {step}; pick a step whose checkpoint was kept."
        else:
            reason = ""
        set_available(self.playground_button, not reason, reason, f"Generate with the checkpoint of step {step}")
        set_available(self.attention_button, not reason, reason, f"Look at attention with the checkpoint of step {step}")
        read_only = "The project is read-only here." if self._store is not None and self._store.read_only else ""
        set_available(self.pin_button, not (reason or read_only), reason or read_only,
                      f"Keep the checkpoint of step {step} whatever the run's retention policy removes")
        self.pin_button.blockSignals(True)
        self.pin_button.setChecked(step in self._pinned)
        self.pin_button.setText("Pinned" if step in self._pinned else "Pin Checkpoint")
        self.pin_button.blockSignals(False)

    def _pin_toggled(self, pinned: bool) -> None:
        step = self.selected_step()
        if self._store is None or self._run is None or step is None:
            return
        try:
            set_pinned(self._store, self._run, step, pinned)
        except WorkbenchError as exc:  # deleted meanwhile, or read-only
            self.where.setText(str(exc))
        else:
            (self._pinned.add if pinned else self._pinned.discard)(step)
            self.pinChanged.emit(self._run, step, pinned)
        self._update_buttons()

    def _open(self, target: str) -> None:
        step = self.selected_step()
        if self._run is not None and step is not None:
            self.openRequested.emit(target, self._run, step)
