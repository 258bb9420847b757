"""The attention panel: how a trained model attends over a text, per layer and head.

It shows the attention snapshots a run saved while training (`snapshot_list.py`) and, when the
attention engine is available, the attention of any text typed into `attentionTextEdit` under the checkpoint
chosen in `attentionCheckpointCombo`: any kept step, or a paused run's "live (paused at step N)"
weights, which are the checkpoint its loop wrote as it paused (why: `ui/widgets/checkpoint_choices.py`).
After each extraction `attentionCheckpointUsed` says which run and step it used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.attention.export import ExportButton
from workbench.ui.panels.attention.head_view import HeadView
from workbench.ui.panels.attention.map_view import MapView
from workbench.ui.panels.attention.overview import HeadOverview
from workbench.ui.panels.attention.snapshot_list import SnapshotList
from workbench.ui.panels.attention.timeline import (
    NO_ATTENTION,
    CheckpointTimeline,
    StepAttention,
    why_unusable,
)
from workbench.ui.widgets.checkpoint_choices import ChoicesWatch, checkpoint_choices, fill_checkpoint_combo
from workbench.ui.widgets.forms import fill_run_combo, plain_label, set_available
from workbench.ui.widgets.heatmap import AttentionHeatmap
from workbench.ui.widgets.scrolling import FitBody, scroll_area

MEAN = -1


class AttentionPanel(QWidget):
    """objectName `attentionPanel`. Emits `attentionRequested(run name, checkpoint, text)`; the
    checkpoint as `--checkpoint` takes it ("latest", "best", a step)."""

    attentionRequested = Signal(str, str, str)
    headScoresRequested = Signal(str, str, str)  # run, checkpoint, text (may be empty): `show_head_scores`

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionPanel")
        self._store: ProjectStore | None = None
        self._engine_missing = ""  # why not, when the warm-up cannot load the engine
        self._weights = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self._tokens: list[str] = []
        self._checkpoint_run: str | None = None  # the run whose checkpoints and snapshots are listed

        self.run = QComboBox()
        self.run.setObjectName("attentionRunCombo")
        self.snapshots = SnapshotList(lambda: self._store, self.run, self)
        self.snapshot = self.snapshots.combo
        self.checkpoint = QComboBox()
        self.checkpoint.setObjectName("attentionCheckpointCombo")
        self.checkpoint.setToolTip("The weights that compute the attention of a typed text: a kept checkpoint, "
                                   "or a paused run's live weights")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("attentionTextEdit")
        self.text_edit.setPlaceholderText("Type a text to see how the model attends to it")
        self.text_edit.setMaximumHeight(56)  # about two lines: the views below need the height more
        self.layer = QSpinBox()
        self.layer.setObjectName("attentionLayerSpin")
        self.head = QComboBox()
        self.head.setObjectName("attentionHeadCombo")
        self.head.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "Mean of heads" whole
        self.show_button = QPushButton("Show Attention")
        self.show_button.setObjectName("showAttentionButton")
        self.show_button.clicked.connect(self.request_attention)
        self.heatmap = AttentionHeatmap(empty_text="Pick a run with saved attention snapshots, or type a text.")
        self.notice = plain_label("")
        self.notice.setObjectName("attentionNotice")
        self.used = plain_label("")
        self.used.setObjectName("attentionCheckpointUsed")

        form = QFormLayout()
        form.addRow("Run", self.run)
        sources = QHBoxLayout()  # one row for both: the tabbed dock is short on a laptop screen
        sources.addWidget(self.snapshot, 1)
        sources.addWidget(plain_label("Checkpoint for typed text", wrap=False))
        sources.addWidget(self.checkpoint, 1)
        form.addRow("Saved snapshot", sources)
        view = QHBoxLayout()
        view.addWidget(plain_label("Layer", wrap=False))
        view.addWidget(self.layer)
        view.addWidget(plain_label("Head", wrap=False))
        view.addWidget(self.head)
        view.addWidget(self.show_button)
        view.addWidget(self.used, 1)  # beside the button that computed the map: seen without scrolling
        # Tabs in the user's path (one map, all heads, lines, scores); `slider_row` above them holds
        # the checkpoint slider with its play button, and Export.
        self.slider_row = QHBoxLayout()
        self.map_page = QWidget()
        self.grid_page = QWidget()
        self.head_view_page = QWidget()
        self.scores_page = QWidget()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("attentionTabs")
        self.tabs.setDocumentMode(True)
        for page, title in ((self.map_page, "Map"), (self.grid_page, "All heads"),
                            (self.head_view_page, "Head view"), (self.scores_page, "Scores")):
            QVBoxLayout(page).setContentsMargins(0, 0, 0, 0)
            self.tabs.addTab(page, title)
        self.map_view = MapView(self.heatmap)
        self.map_page.layout().addWidget(self.map_view)
        self.overview = HeadOverview(self.tabs, self.grid_page, self.scores_page)
        self.overview.openHead.connect(self.open_head)
        self.overview.computeRequested.connect(self.request_head_scores)
        self.marked_from: int | None = None  # first generated token of a playground text (marked)
        self.head_view = HeadView()
        self.head_view_page.layout().addWidget(self.head_view)
        self.timeline = CheckpointTimeline(lambda: self._store, self.run, self.text_edit)
        self.slider_row.addWidget(self.timeline, 1)
        self.export_button = ExportButton(self)  # the view shown, as PNG or SVG
        self.slider_row.addWidget(self.export_button)
        self.timeline.shown.connect(self._show_step)
        body = FitBody()  # scrolls only below its minimum (a wrapped notice made it scroll at 1366x768)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.text_edit)
        layout.addLayout(view)
        layout.addLayout(self.slider_row)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.notice)
        QVBoxLayout(self).addWidget(scroll_area(body))  # the tabbed dock may be shorter than the map needs

        self.run.currentIndexChanged.connect(self._run_changed)
        self.snapshots.loaded.connect(self.show_attention)
        self.snapshots.emptied.connect(self._clear)
        self.snapshots.unreadable.connect(self._unreadable)
        self.layer.valueChanged.connect(self._render)
        self.head.currentIndexChanged.connect(self._render)
        self.map_view.scaleChanged.connect(self._render)
        self.watch = ChoicesWatch(self, lambda: self._store)  # runs paused or saved by other processes
        self.watch.changed.connect(self.refresh)
        self._update_button()

    # ---- inputs from MainWindow ----------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        """Reload the lists; what is chosen and shown stays (a new snapshot is followed when the
        newest was shown)."""
        fill_run_combo(self.run, self._store.list_runs() if self._store else [])
        if self.run.currentData() != self._checkpoint_run:
            self._run_changed()
        else:
            fill_checkpoint_combo(self.checkpoint, checkpoint_choices(self._store, self._checkpoint_run))
            self.snapshots.update(bool(self._weights.size))
            self._update_button()
        self.timeline.refresh()
        self.watch.mark_seen()

    def _run_changed(self) -> None:
        self._checkpoint_run = self.run.currentData()
        fill_checkpoint_combo(self.checkpoint, checkpoint_choices(self._store, self._checkpoint_run), keep=False)
        self.snapshots.reload()
        self._update_button()

    def select_checkpoint(self, run: str, step: int) -> bool:
        """Choose run `run` at checkpoint `step` (for a typed text), and its snapshot of that step
        when it saved one; False when the run is not listed."""
        self.refresh()
        index = self.run.findData(run)
        if index < 0:
            return False
        self.run.setCurrentIndex(index)
        if self.run.currentData() != self._checkpoint_run:  # same index, another run: no signal
            self._run_changed()
        found = self.checkpoint.findData(str(step))
        if found >= 0:
            self.checkpoint.setCurrentIndex(found)
        snapshot = self.snapshot.findText(f"step {step}")
        if snapshot >= 0:
            self.snapshot.setCurrentIndex(snapshot)
        return True

    def show_checkpoint_used(self, run: str, step: int) -> None:
        """Say which weights computed the map now shown (a "latest" can move while a run trains)."""
        self.used.setText(f"Used run {run}, checkpoint step {step}.")

    def _show_step(self, item: StepAttention) -> None:
        """A step of the checkpoint slider (computed now or cached before)."""
        self.show_attention(item.weights, item.tokens, item.notice)
        self.show_checkpoint_used(item.run, item.step)

    def mark_generated(self, first: int | None, notice: str = "") -> None:
        """Mark tokens from `first` on as generated (a playground text shown here), with a notice."""
        self.marked_from = first
        if notice:
            self.notice.setText(notice)
        self._render()

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
        self.marked_from = None  # `mark_generated` sets it again for a playground text
        self.snapshots.showing = False
        self.used.setText("")
        layers, heads = weights.shape[:2]
        with QSignalBlocker(self.layer), QSignalBlocker(self.head):  # one render below, not three
            self.layer.setRange(0, layers - 1)
            self.layer.setValue(min(self.layer.value(), layers - 1))
            previous = self.head.currentData()
            self.head.clear()
            self.head.addItem("Mean of heads", MEAN)
            for h in range(heads):
                self.head.addItem(f"Head {h}", h)
            self.head.setCurrentIndex(max(self.head.findData(previous), 0))
        self.notice.setText(notice)
        self.map_view.set_all_weights(weights)
        self.overview.set_weights(weights)
        self._render()

    def open_head(self, layer: int, head: int) -> None:
        """Show one head in the Map tab (a click in the grid or the scores)."""
        self.layer.setValue(min(layer, self.layer.maximum()))
        self.head.setCurrentIndex(max(0, self.head.findData(head)))
        self.tabs.setCurrentWidget(self.map_page)

    def show_head_scores(self, scores: Any) -> None:
        """A `HeadScores` from the head scores job."""
        self.overview.show_scores(scores)

    # ---- requests ------------------------------------------------------------------------------

    def request_attention(self) -> bool:
        text = self.text_edit.toPlainText()
        if not self.show_button.isEnabled():
            return False
        if not text.strip():
            self.notice.setText("Type a text first.")
            return False
        self.attentionRequested.emit(self.run.currentData(), self.checkpoint.currentData() or "latest", text)
        return True

    def request_head_scores(self) -> bool:
        if not self.overview.scores_view.compute_button.isEnabled():
            return False
        if not self.text_edit.toPlainText().strip() and self.snapshots.probe_text():
            # the run's own text (its snapshot's, from its validation split): on the copy task it holds
            # the copies whose induction heads random tokens do not wake
            self.text_edit.setPlainText(self.snapshots.probe_text())
        self.overview.scores_view.summary.setText("Computing head scores…")
        self.headScoresRequested.emit(self.run.currentData(), self.checkpoint.currentData() or "latest",
                                      self.text_edit.toPlainText())
        return True

    def _update_button(self) -> None:
        reason = self._engine_missing or ("" if self.run.count() else "Train a run first: attention needs a model.")
        reason = reason or why_unusable(self._store, self.run.currentData())
        if reason.endswith(NO_ATTENTION):
            self.notice.setText(reason)  # said in the panel, not only in a tooltip
        set_available(self.show_button, not reason, reason, "Compute the attention of the typed text")
        self.overview.set_available(not reason, reason)

    # ---- saved snapshots (listed by `snapshot_list.py`) -------------------------------------------

    def _clear(self) -> None:
        self._weights, self._tokens = np.zeros((0, 0, 0, 0), dtype=np.float32), []
        self.map_view.clear()
        self.notice.setText("")

    def _unreadable(self, message: str) -> None:
        self.heatmap.clear_matrix()
        self.notice.setText(message)

    def _render(self) -> None:
        self.head_view.set_attention(self._weights, self._tokens, self.layer.value(), self.marked_from)
        if not self._weights.size:
            self.map_view.clear()
            return
        layer = self._weights[self.layer.value()]
        head = self.head.currentData()
        # one head: convert only its map (all 12 heads of a 1024-token layer would be 48 MB of float32)
        matrix = layer.mean(axis=0, dtype=np.float32) if head in (None, MEAN) else layer[head].astype(np.float32)
        self.map_view.show_matrix(matrix, self._tokens)
