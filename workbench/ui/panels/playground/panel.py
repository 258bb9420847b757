"""The generation playground: pick a run, type a prompt, watch the continuation arrive.

The checkpoint chooser offers every kept step and, for a paused run, "live (paused at step N)": the
checkpoint the loop wrote as it paused (why a checkpoint: `ui/widgets/checkpoint_choices.py`). After
each generation the panel says which run and step it used (`generationCheckpointUsed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.events import TokenGenerated
from workbench.core.base.specs import SampleSpec
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.checkpoint_choices import ChoicesWatch, checkpoint_choices, fill_checkpoint_combo
from workbench.ui.widgets.forms import fill_run_combo, plain_label, set_available
from workbench.ui.wording import for_window

NOT_GENERATING = "Nothing is being generated."


class PlaygroundPanel(QWidget):
    """objectName `playgroundPanel`. `generateRequested(run, checkpoint, prompt, SampleSpec)`."""

    generateRequested = Signal(str, str, str, object)
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundPanel")
        self._store: ProjectStore | None = None
        self._engine_missing = ""  # why not, when the warm-up cannot load the engine
        self._generating = False
        self._sample = -1
        self._prompt = ""
        self._tokens = 0
        self._requested = 0  # tokens asked for by the generation now shown

        self.run = QComboBox()
        self.run.setObjectName("playgroundRunCombo")
        self.checkpoint = QComboBox()
        self.checkpoint.setObjectName("playgroundCheckpointCombo")
        self.checkpoint.setToolTip("Which weights generate: a kept checkpoint, or a paused run's live weights")
        self._checkpoint_run: str | None = None  # the run whose checkpoints the chooser lists
        self.run.currentIndexChanged.connect(self._load_checkpoints)
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText("Type the start of a text; the model continues it (Ctrl+Enter)")
        self.prompt_edit.setMaximumHeight(90)
        self.prompt_edit.setMinimumHeight(44)  # two lines: the dock must fit under the curves on a laptop screen
        defaults = SampleSpec()
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 100_000)
        self.max_tokens.setValue(defaults.max_new_tokens)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(defaults.temperature)  # the command line's default too: one place
        self.temperature.setToolTip("0 always picks the most likely token; higher is more adventurous")
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 100_000)
        self.top_k.setSpecialValueText("off")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(defaults.top_p)
        self.seed = QSpinBox()
        self.seed.setObjectName("playgroundSeed")
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setValue(-1)
        self.seed.setSpecialValueText("random")
        self.seed.setToolTip("The same seed, prompt and settings give the same text; 'random' picks a new one each time")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.clicked.connect(self.request_generation)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopGenerationButton")
        self.stop_button.clicked.connect(self.stopRequested)
        self.output = QPlainTextEdit()
        self.output.setObjectName("generationOutput")
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("The generated text appears here.")
        self.output.setMinimumHeight(44)
        self.problem = plain_label("")
        self.problem.setObjectName("playgroundProblem")
        self.summary = plain_label("")
        self.summary.setObjectName("generationSummary")
        self.used = plain_label("")
        self.used.setObjectName("generationCheckpointUsed")
        self.used.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        source = QFormLayout()
        source.addRow("Run", self.run)
        source.addRow("Checkpoint", self.checkpoint)
        knobs = QHBoxLayout()
        for label, box in (("Tokens", self.max_tokens), ("Temperature", self.temperature),
                           ("Top-k", self.top_k), ("Top-p", self.top_p), ("Seed", self.seed)):
            knobs.addWidget(plain_label(label, wrap=False))
            knobs.addWidget(box)
        knobs.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.problem, 1)
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addWidget(self.prompt_edit)
        layout.addLayout(knobs)
        layout.addLayout(buttons)
        layout.addWidget(self.output, 1)
        ending = QHBoxLayout()  # one line: the dock shares the screen's height with the curves
        ending.addWidget(self.summary, 1)
        ending.addWidget(self.used, 1)
        layout.addLayout(ending)
        self.watch = ChoicesWatch(self, lambda: self._store)  # runs paused or saved by other processes
        self.watch.changed.connect(self.refresh)
        self._update_buttons()

    # ---- inputs from MainWindow ----------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        runs = self._store.list_runs() if self._store else []
        fill_run_combo(self.run, [r for r in runs if r["id"] in self._runs_with_checkpoints()])
        self._load_checkpoints()
        self.watch.mark_seen()
        self._update_buttons()

    def _load_checkpoints(self) -> None:
        """List the chosen run's checkpoints; the chosen one stays while the run stays."""
        name = self.run.currentData()
        fill_checkpoint_combo(self.checkpoint, checkpoint_choices(self._store, name),
                              keep=name == self._checkpoint_run)
        self._checkpoint_run = name

    def show_checkpoint_used(self, run: str, step: int) -> None:
        """Say which weights the generation now shown runs on (a "latest" can move while a run trains)."""
        self.used.setText(f"Used run {run}, checkpoint step {step}.")

    def select_run(self, name: str) -> bool:
        """Pick the run called `name` when the list has it (it has once the run has a checkpoint)."""
        index = self.run.findData(name)
        if index >= 0:
            self.run.setCurrentIndex(index)
        return index >= 0

    def _runs_with_checkpoints(self) -> set[int]:
        """Runs generation can load: a run in training is listed once its first checkpoint is saved."""
        if self._store is None:
            return set()
        return {row["run_id"] for row in self._store.query("SELECT DISTINCT run_id FROM checkpoints")}

    def set_generation_available(self, available: bool, reason: str = "") -> None:
        self._engine_missing = "" if available else reason
        self._update_buttons()

    def set_generating(self, generating: bool) -> None:
        self._generating = generating
        self._update_buttons()

    # ---- output --------------------------------------------------------------------------------

    def begin_output(self, prompt: str = "") -> None:
        """Clear the output and show the prompt the continuation will follow."""
        self.output.clear()
        self.summary.setText("")
        self.used.setText("")
        self._sample = -1
        self._prompt = prompt
        self._tokens = 0
        self._requested = self.max_tokens.value()
        self.append_text(prompt)

    def finish_output(self, outcome: str) -> None:
        """Say how the generation now shown ended: a model may end its text before the token limit."""
        count = f"{self._tokens:,} token{'s' if self._tokens != 1 else ''}"
        if outcome == "stopped":
            self.summary.setText(f"Stopped after {count}.")
        elif outcome != "finished":
            self.summary.setText(f"Failed after {count}.")
        elif self._tokens < self._requested:
            self.summary.setText(f"{count}: the model ended the text with its end-of-text token.")
        else:
            self.summary.setText(f"{count}.")

    def add_events(self, events: Iterable[Any]) -> None:
        pieces = []
        for event in events:
            if not isinstance(event, TokenGenerated):
                continue
            if event.sample != self._sample:
                self._sample = event.sample
                if event.sample > 0:
                    pieces.append(f"\n\n--- sample {event.sample + 1} ---\n{self._prompt}")
            pieces.append(event.text)
            self._tokens += 1
        if pieces:
            self.append_text("".join(pieces))

    def append_text(self, text: str) -> None:
        cursor = self.output.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)  # plain text: model output is never interpreted as markup
        self.output.setTextCursor(cursor)
        self.output.ensureCursorVisible()

    # ---- requests ------------------------------------------------------------------------------

    def sample_spec(self) -> SampleSpec:
        seed = self.seed.value()
        return SampleSpec(max_new_tokens=self.max_tokens.value(), temperature=round(self.temperature.value(), 3),
                          top_k=self.top_k.value(), top_p=round(self.top_p.value(), 3),
                          seed=None if seed < 0 else seed)

    def request_generation(self) -> bool:
        if not self.generate_button.isEnabled():
            return False
        spec = self.sample_spec()
        try:
            spec.validate()
        except InvalidSpecError as exc:
            self.problem.setText(for_window(str(exc)))
            return False
        self.problem.setText("")
        self.generateRequested.emit(self.run.currentData(), self.checkpoint.currentData(),
                                    self.prompt_edit.toPlainText(), spec)
        return True

    def _update_buttons(self) -> None:
        if self._engine_missing:
            reason = self._engine_missing
        elif self._store is None:
            reason = "Open or create a project first."
        elif not self.run.count():
            reason = ("Train a run first: generation needs a saved checkpoint (a run in training "
                      "appears here once it saves its first one, at its first evaluation).")
        else:
            reason = ""
        set_available(self.generate_button, not reason, reason, "Continue the prompt with the chosen run (Ctrl+Enter)")
        set_available(self.stop_button, self._generating, NOT_GENERATING, "Stop generating")
