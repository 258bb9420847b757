"""The generation playground: pick a run, type a prompt, watch the continuation arrive.

The checkpoint chooser offers every kept step and, for a paused run, "live (paused at step N)": the
checkpoint the loop wrote as it paused (why a checkpoint: `ui/widgets/checkpoint_choices.py`). After
each generation the panel says which run and step it used (`generationCheckpointUsed`).
"""

from __future__ import annotations

from dataclasses import replace
from secrets import randbelow

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import SampleSpec
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.playground.branches import BranchExplorer
from workbench.ui.panels.playground.fill_mask import FillMaskTab
from workbench.ui.panels.playground.history import HistoryView
from workbench.ui.panels.playground.live_figures import LiveFigures
from workbench.ui.panels.playground.output import PlaygroundOutput, ProblemLabel
from workbench.ui.panels.playground.recorder import GenerationRecorder
from workbench.ui.panels.playground.sampler_form import SamplerForm
from workbench.ui.panels.playground.show_attention import ShowAttentionButton
from workbench.ui.panels.playground.side_by_side import SideBySideView
from workbench.ui.panels.playground.surprise import SurpriseTab
from workbench.ui.widgets.checkpoint_choices import ChoicesWatch, checkpoint_choices, fill_checkpoint_combo
from workbench.ui.widgets.forms import fill_run_combo, plain_label, set_available
from workbench.ui.widgets.plain_text import tooltip_text
from workbench.ui.wording import for_window

NOT_GENERATING = "Nothing is being generated."


class PlaygroundPanel(PlaygroundOutput, QWidget):
    """objectName `playgroundPanel`. `generateRequested(run, checkpoint, prompt, SampleSpec)`; the
    output and the history it records are `PlaygroundOutput`'s (`output.py`)."""

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
        self._refused = False  # the generation now shown was refused (`GenerationRefused`)
        self.recorder = GenerationRecorder()  # the history's entry for the generation now shown

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
        self.form = SamplerForm()
        self.form.problem.connect(self._show_problem)
        # the boxes by their old names: MainWindow, tests and other parts read them
        self.max_tokens, self.temperature, self.seed = self.form.max_tokens, self.form.temperature, self.form.seed
        self.top_k, self.top_p = self.form.top_k, self.form.top_p
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
        self.problem = ProblemLabel()  # `playgroundProblem`, a line of its own while there is a reason
        self.summary = plain_label("")
        self.summary.setObjectName("generationSummary")
        self.used = plain_label("")
        self.used.setObjectName("generationCheckpointUsed")
        self.used.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        source = QFormLayout()
        source.addRow("Run", self.run)
        source.addRow("Checkpoint", self.checkpoint)
        self.figures = LiveFigures(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.figures.label)  # beside Generate: the figures of what it started
        buttons.addStretch(1)
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        self.show_attention_button = ShowAttentionButton(  # the window wires `requested` (attention_wiring.py)
            self.output, lambda: (self.run.currentData(), self.checkpoint.currentData(), self._prompt))
        buttons.addWidget(self.show_attention_button)
        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addWidget(self.prompt_edit)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.problem)
        # The views of a generation, one tab each: other parts add theirs with `add_view`.
        self.views = QTabWidget()
        self.views.setObjectName("playgroundViews")
        self.views.setDocumentMode(True)
        self.history = HistoryView()
        self.history.restoreRequested.connect(self.restore_generation)
        self.views.addTab(self.history, "History")  # stays last: `add_view` inserts before it
        self.add_view(self.output, "Text")
        self.branches = BranchExplorer()  # tokens coloured by probability, the branch tree, the samples
        self.add_view(self.branches, "Tokens")
        self.add_view(self.branches.samples, "Samples")
        self.generateRequested.connect(self.branches.requested)  # before the window's controller: it learns first
        self.branches.branchRequested.connect(self.request_branch)
        self.side_by_side = SideBySideView(lambda: (self.prompt_edit.toPlainText(), self.sample_spec()))
        self.side_by_side.columnsFinished.connect(self.record_columns)
        self.fill_mask = FillMaskTab()  # Generate fills masks for a BERT run (`fill_mask.route`)
        self.fill_mask.filled.connect(self.record_fill_mask)
        self.surprise = SurpriseTab(lambda: (self.run.currentData(), self.checkpoint.currentData()))
        for view, title in ((self.side_by_side, "Side by side"), (self.fill_mask, "Fill mask"),
                            (self.surprise, "Surprise")):
            self.add_view(view, title)
        layout.addWidget(self.views, 1)
        ending = QHBoxLayout()  # one line: the dock shares the screen's height with the curves
        ending.addWidget(self.summary, 3)
        ending.addWidget(self.used, 2)
        layout.addLayout(ending)
        self.watch = ChoicesWatch(self, lambda: self._store)  # runs paused or saved by other processes
        self.watch.changed.connect(self.refresh)
        self._update_buttons()

    def add_view(self, widget: QWidget, title: str) -> int:
        """Add a tab below the prompt (Samples, Side by side, Fill mask, Surprise ...), before History."""
        return self.views.insertTab(self.views.indexOf(self.history), widget, title)

    def show_view(self, widget: QWidget) -> None:
        """Bring the tab holding `widget` to the front."""
        index = self.views.indexOf(widget)
        if index >= 0:
            self.views.setCurrentIndex(index)

    # ---- inputs from MainWindow ----------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.history.set_project(store)
        self.branches.set_project(store)
        self.refresh()

    def refresh(self) -> None:
        runs = self._store.list_runs() if self._store else []
        fill_run_combo(self.run, [r for r in runs if r["id"] in self._runs_with_checkpoints()])
        self._load_checkpoints()
        self.side_by_side.set_store(self._store)
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
        self.recorder.used(run, step)
        self.show_attention_button.used_step = step

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
        self.show_attention_button.set_generating(generating)
        self._update_buttons()

    # ---- requests ------------------------------------------------------------------------------

    def sample_spec(self) -> SampleSpec:
        return self.form.spec()

    def request_branch(self, run: str, checkpoint: str, prompt: str, spec: SampleSpec) -> bool:
        """Continue a saved text with another token (the Tokens tab): a generation like any other."""
        if not self.generate_button.isEnabled():
            self.problem.setText(tooltip_text(self.generate_button.toolTip()))
            return False
        self.problem.setText("")
        self.recorder.requested(prompt, spec, "branch")
        self.generateRequested.emit(run, checkpoint, prompt, spec)
        return True

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)

    def request_generation(self) -> bool:
        if not self.generate_button.isEnabled():
            return False
        routed = self.fill_mask.intercept(self._store, self.run.currentData(), self.checkpoint.currentData(),
                                          self.prompt_edit.toPlainText())
        if routed is not None:  # a BERT run fills masks; [MASK] typed for a causal run is refused
            started, problem = routed
            self.problem.setText(problem)
            return started
        spec = self.sample_spec()
        try:
            spec.validate()
        except InvalidSpecError as exc:
            self.problem.setText(for_window(str(exc)))
            return False
        self.problem.setText("")
        if spec.seed is None:  # drawn here, so the history can repeat the text
            spec = replace(spec, seed=randbelow(2**31))
        self.recorder.requested(self.prompt_edit.toPlainText(), spec)
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
        self.surprise.set_available(not reason, reason)
