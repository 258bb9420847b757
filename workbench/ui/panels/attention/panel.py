"""The attention panel: how a trained model attends over a text, per layer and head.

It shows the attention snapshots a run saved while training (`attention_snapshots` rows: a fixed
probe text at each evaluation, float16 [layers, heads, T, T] in an .npz) and, when the attention
engine is available, the attention of any text typed into `attentionTextEdit` under the checkpoint
chosen in `attentionCheckpointCombo`: any kept step, or a paused run's "live (paused at step N)"
weights, which are the checkpoint its loop wrote as it paused (why: `ui/widgets/checkpoint_choices.py`).
After each extraction `attentionCheckpointUsed` says which run and step it used.
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
from workbench.ui.panels.attention.timeline import CheckpointTimeline, StepAttention, has_no_attention
from workbench.ui.widgets.checkpoint_choices import ChoicesWatch, checkpoint_choices, fill_checkpoint_combo
from workbench.ui.widgets.forms import fill_run_combo, plain_label, set_available
from workbench.ui.widgets.heatmap import AttentionHeatmap
from workbench.ui.widgets.scrolling import scroll_area

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
        self._showing_snapshot = False  # the map is a saved snapshot, not a typed text's attention

        self.run = QComboBox()
        self.run.setObjectName("attentionRunCombo")
        self.snapshot = QComboBox()
        self.snapshot.setObjectName("attentionSnapshotCombo")
        self.checkpoint = QComboBox()
        self.checkpoint.setObjectName("attentionCheckpointCombo")
        self.checkpoint.setToolTip("The weights that compute the attention of a typed text: a kept checkpoint, "
                                   "or a paused run's live weights")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("attentionTextEdit")
        self.text_edit.setPlaceholderText("Type a text to see how the model attends to it")
        self.text_edit.setMaximumHeight(72)
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
        # Where the views live (tab order is the user's path: one map, all heads, lines, scores).
        # `slider_row` is the row above the tabs for the checkpoint slider and its play button;
        # `head_view_page` holds the head view (text twice, lines per attended token).
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
        body = QWidget()
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
        self.snapshot.currentIndexChanged.connect(self._load_snapshot)
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
            self._update_snapshot_list()
            self._update_button()
        self.timeline.refresh()
        self.watch.mark_seen()

    def _run_changed(self) -> None:
        self._checkpoint_run = self.run.currentData()
        fill_checkpoint_combo(self.checkpoint, checkpoint_choices(self._store, self._checkpoint_run), keep=False)
        self._load_snapshot_list()
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
        self._showing_snapshot = False
        self.used.setText("")
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
        self.overview.scores_view.summary.setText("Computing head scores…")
        self.headScoresRequested.emit(self.run.currentData(), self.checkpoint.currentData() or "latest",
                                      self.text_edit.toPlainText())
        return True

    def _update_button(self) -> None:
        reason = self._engine_missing or ("" if self.run.count() else "Train a run first: attention needs a model.")
        name = self.run.currentData()
        if not reason and self._store is not None and name is not None and not self._store.query(
                "SELECT 1 FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = ? LIMIT 1", (name,)):
            reason = (f"{name} has no checkpoint yet: attention of a typed text needs one (a run saves its "
                      "first at its first evaluation).")
        if not reason and has_no_attention(self._store, name):
            reason = f"{name} is an LSTM, which has no attention: choose a GPT-2, Llama or BERT run."
            self.notice.setText(reason)  # said in the panel, not only in a tooltip
        set_available(self.show_button, not reason, reason, "Compute the attention of the typed text")
        self.overview.set_available(not reason, reason)

    # ---- saved snapshots -----------------------------------------------------------------------

    def _load_snapshot_list(self) -> None:
        self._fill_snapshots(self._snapshot_rows(), None)
        self._load_snapshot()

    def _update_snapshot_list(self) -> None:
        """Refill the list only when it changed; keep the snapshot shown, or follow the newest."""
        rows = self._snapshot_rows()
        listed = [self.snapshot.itemData(i) for i in range(self.snapshot.count())]
        if listed == [row["path"] for row in rows]:
            return
        newest = self.snapshot.currentIndex() == self.snapshot.count() - 1
        keep = None if newest and (self._showing_snapshot or not self._weights.size) else self.snapshot.currentData()
        self._fill_snapshots(rows, keep)
        if self.snapshot.currentData() != keep:
            self._load_snapshot()

    def _fill_snapshots(self, rows: list[dict[str, Any]], keep: str | None) -> None:
        self.snapshot.blockSignals(True)
        self.snapshot.clear()
        for row in rows:
            self.snapshot.addItem(f"step {row['step']}", row["path"])
        index = self.snapshot.findData(keep) if keep is not None else -1
        self.snapshot.setCurrentIndex(index if index >= 0 else self.snapshot.count() - 1)
        self.snapshot.blockSignals(False)

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
            self.map_view.clear()
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
        self._showing_snapshot = True

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
