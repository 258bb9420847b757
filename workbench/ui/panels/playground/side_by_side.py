"""Side by side: two to four columns, each a run and checkpoint, continuing the same prompt with the
same seed; from the first token where the columns' texts differ, each column's text is shaded.

The columns are compared as text, not token ids: two runs may use different tokenizers. The point
of divergence is the first character where two columns disagree, as far as they have been
generated (a column that ended is different from a longer one where it ended); each column is
shaded from the start of its token that holds that character. The job that fills the columns is
`ui/jobs/playground_jobs.side_by_side_job` (one job, the columns in turn, token by token).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from secrets import randbelow
from typing import Any

from PySide6.QtCore import QEvent, Signal, Slot
from PySide6.QtGui import QColor, QPalette, QTextCharFormat
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import SampleSpec
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.playground.side_by_side_column import Column, divergence
from workbench.ui.theme import is_dark
from workbench.ui.widgets.checkpoint_choices import checkpoint_choices, fill_checkpoint_combo
from workbench.ui.widgets.forms import fill_run_combo, plain_label, set_available
from workbench.ui.wording import for_window

MIN_COLUMNS, MAX_COLUMNS = 2, 4
_SHADE = {False: "#ffe1a8", True: "#5a4416"}  # amber: readable under the palette's text colour


class SideBySideView(QWidget):
    """objectName `sideBySideView`. `compareRequested(columns: list[(run, checkpoint)], prompt, spec)`;
    `request_of()` gives the panel's (prompt, SampleSpec). When they end, `columnsFinished(prompt,
    spec, [(column number, run, step, text)], stopped)` gives the columns that generated (the history)."""

    compareRequested = Signal(object, str, object)
    stopRequested = Signal()
    columnsFinished = Signal(str, object, object, bool)

    def __init__(self, request_of: Callable[[], tuple[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sideBySideView")
        self._request_of = request_of
        self._store: ProjectStore | None = None
        self._running = False
        self._request: tuple[str, SampleSpec] | None = None  # what the columns now shown continue
        self.diverged_at: int | None = None
        self.count = QSpinBox()
        self.count.setObjectName("sideBySideCount")
        self.count.setRange(MIN_COLUMNS, MAX_COLUMNS)
        self.count.setSuffix(" columns")
        self.count.valueChanged.connect(self._show_columns)
        self.compare_button = QPushButton("Generate side by side")
        self.compare_button.setObjectName("sideBySideButton")
        self.compare_button.clicked.connect(self.request_compare)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("sideBySideStopButton")
        self.stop_button.clicked.connect(self.stopRequested)
        self.status = plain_label("")
        self.status.setObjectName("sideBySideStatus")
        self.columns = [Column(i) for i in range(MAX_COLUMNS)]
        for column in self.columns:
            column.run.currentIndexChanged.connect(self._load_checkpoints)
        top = QHBoxLayout()
        top.addWidget(self.count)
        top.addWidget(self.status, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.stop_button)
        row = QHBoxLayout()
        row.setSpacing(4)
        for column in self.columns:
            row.addWidget(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addLayout(row, 1)
        self._show_columns()
        self._update_buttons()

    # ---- runs and checkpoints ------------------------------------------------------------------

    def set_store(self, store: ProjectStore | None) -> None:
        self._store = store
        runs = store.list_runs() if store else []
        with_checkpoints = ({r["run_id"] for r in store.query("SELECT DISTINCT run_id FROM checkpoints")}
                            if store else set())
        runs = [r for r in runs if r["id"] in with_checkpoints]
        for column in self.columns:
            fill_run_combo(column.run, runs)
            self._fill_checkpoints(column, keep=True)
        self._update_buttons()

    def _fill_checkpoints(self, column: Column, keep: bool) -> None:
        fill_checkpoint_combo(column.checkpoint, checkpoint_choices(self._store, column.run.currentData()), keep=keep)

    @Slot()
    def _load_checkpoints(self) -> None:
        for column in self.columns:
            if column.run is self.sender():
                self._fill_checkpoints(column, keep=False)

    def choose(self, column: int, run: str, checkpoint: str) -> bool:
        """Pick `run` and `checkpoint` (a key: "latest", "best", a step) in `column`; False when not offered."""
        combo = self.columns[column].run
        if combo.findData(run) < 0:
            return False
        combo.setCurrentIndex(combo.findData(run))
        index = self.columns[column].checkpoint.findData(checkpoint)
        self.columns[column].checkpoint.setCurrentIndex(index)
        return index >= 0

    def shown_columns(self) -> list[Column]:
        return self.columns[:self.count.value()]

    @Slot()
    def _show_columns(self) -> None:
        for i, column in enumerate(self.columns):
            column.setVisible(i < self.count.value())

    # ---- requests ------------------------------------------------------------------------------

    @Slot()
    def request_compare(self) -> bool:
        if not self.compare_button.isEnabled():
            return False
        prompt, spec = self._request_of()
        try:
            spec.validate()
        except InvalidSpecError as exc:
            self.status.setText(for_window(str(exc)))
            return False
        if spec.seed is None:  # drawn here, for every column, so the history can repeat the texts
            spec = replace(spec, seed=randbelow(2**31))
        choices = [(c.run.currentData(), c.checkpoint.currentData()) for c in self.shown_columns()]
        self.compareRequested.emit(choices, prompt, spec)
        return True

    def set_running(self, running: bool) -> None:
        self._running = running
        self._update_buttons()

    def _update_buttons(self) -> None:
        reason = ("Open or create a project first." if self._store is None else
                  "Train a run first: each column needs a saved checkpoint." if not self.columns[0].run.count()
                  else "")
        set_available(self.compare_button, not reason, reason,
                      "Continue the prompt with every column's run and checkpoint, with the same seed")
        set_available(self.stop_button, self._running, "Nothing is being generated side by side.", "Stop them")

    # ---- output from the job -------------------------------------------------------------------

    def begin(self, prompt: str, spec: SampleSpec | None = None) -> None:
        self._request = (prompt, spec) if spec is not None else None
        self.diverged_at = None
        self.status.setText("")
        for column in self.columns:
            column.reset(prompt)

    def column_started(self, column: int, run: str, step: int) -> None:
        self.columns[column].state.setText(f"{run}, step {step}: generating…")
        self.columns[column].source = (run, step)

    def add_pieces(self, pieces: Iterable[tuple[int, str]]) -> None:
        """(column, text) of each new token, in order; then shade where the columns differ."""
        shade = self._shade_format()
        for column, text in pieces:
            self.columns[column].append(text, shade)
        self._check_divergence(shade)

    def column_ended(self, index: int, tokens: int, reason: str = "") -> None:
        """Column `index` ended after `tokens` tokens; `reason` says why it could not generate."""
        column = self.columns[index]
        column.finished, column.failed = True, bool(reason)
        head = column.state.text().split(":")[0] if column.state.text() else ""
        if reason:
            column.state.setText(f"Not generated: {for_window(reason)}")
        else:
            column.state.setText(f"{head}: {tokens:,} token{'s' if tokens != 1 else ''}.")
        self._check_divergence(self._shade_format())

    def _check_divergence(self, shade: QTextCharFormat) -> None:
        if self.diverged_at is not None:
            return
        compared = [c for c in self.shown_columns() if not c.failed]
        at = divergence([c.text for c in compared], [c.finished for c in compared])
        if at is None:
            return
        self.diverged_at = at
        for column in compared:
            column.shade(at, shade)

    def finish(self, outcome: str, seed: object = None) -> None:
        self.set_running(False)
        self._report(outcome)
        seed_text = f" with seed {seed}" if isinstance(seed, int) else ""
        if outcome == "stopped":
            self.status.setText("Stopped.")
        elif outcome != "finished":
            self.status.setText("Failed: see the message.")
        elif self.diverged_at is None:
            self.status.setText(f"Same text in every column{seed_text}.")
        else:
            self.status.setText(f"Generated{seed_text}; shaded from the first token where the columns differ.")

    def _report(self, outcome: str) -> None:
        """Hand the columns that generated to the history (`columnsFinished`)."""
        request, self._request = self._request, None
        if request is None or outcome not in ("finished", "stopped"):
            return
        done = [(i + 1, c.source[0], c.source[1], c.text) for i, c in enumerate(self.shown_columns())
                if c.source is not None and not c.failed]  # an empty text is a result too
        if done:
            self.columnsFinished.emit(request[0], request[1], done, outcome == "stopped")

    def _shade_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(_SHADE[is_dark(self.palette())]))
        fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        return fmt

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the shading follows light and dark
            shade = self._shade_format()
            for column in self.columns:
                column.reshade(shade)
