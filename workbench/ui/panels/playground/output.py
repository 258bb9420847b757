"""The playground panel's output: the Text tab as a generation streams in, how it ended, and the
history of everything the window generated.

`PlaygroundOutput` is a mixin of `PlaygroundPanel` (kept apart so the panel module stays about
building and wiring its widgets). The window's job controller drives it: `begin_output`, then
`add_events` per batch, then `finish_output`. A request the run refused (a checkpoint that fails
its hash, an empty prompt with no beginning-of-text token) arrives as `GenerationRefused` and is
said in the panel's problem line, as plain text, instead of an error dialog. Side-by-side columns
and fill-mask results are recorded in the history here too (`record_columns`, `record_fill_mask`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSpinBox, QWidget

from workbench.core.base.events import GenerationRefused, GenerationTimed, Notice, TokenGenerated
from workbench.core.base.specs import SampleSpec
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.playground.branches import BranchExplorer
from workbench.ui.panels.playground.history import HistoryView
from workbench.ui.panels.playground.live_figures import LiveFigures
from workbench.ui.panels.playground.recorder import GenerationRecorder, record
from workbench.ui.panels.playground.sampler_form import SamplerForm
from workbench.ui.panels.playground.show_attention import ShowAttentionButton
from workbench.ui.wording import for_window


class ProblemLabel(QLabel):
    """objectName `playgroundProblem`: why the last request was not done, as plain text wrapped over
    the panel's width (a hash failure names the file and what to do), hidden while there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundProblem")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy a path
        self.setVisible(False)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        if self.parentWidget() is not None or not text:  # never shown as a window of its own
            self.setVisible(bool(text))


class PlaygroundOutput:
    """The output half of `PlaygroundPanel` (whose `__init__` makes these widgets)."""

    _store: ProjectStore | None
    _sample: int
    _prompt: str
    _tokens: int
    _requested: int
    _refused: bool
    recorder: GenerationRecorder
    output: QPlainTextEdit
    problem: QLabel
    summary: QLabel
    used: QLabel
    prompt_edit: QPlainTextEdit
    max_tokens: QSpinBox
    form: SamplerForm
    history: HistoryView
    branches: BranchExplorer
    figures: LiveFigures
    show_attention_button: ShowAttentionButton

    def begin_output(self, prompt: str = "") -> None:
        """Clear the output and show the prompt the continuation will follow."""
        self.output.clear()
        self.summary.setText("")
        self.used.setText("")
        self.show_attention_button.used_step = None  # known again once the new generation has loaded
        self._sample = -1
        self._prompt = prompt
        self._tokens = 0
        self._refused = False
        self._requested = self.max_tokens.value()
        self.recorder.begin()
        self.branches.begin()
        self.figures.begin()
        self.append_text(prompt)

    def finish_output(self, outcome: str) -> None:
        """Say how the generation now shown ended: a model may end its text before the token limit."""
        count = f"{self._tokens:,} token{'s' if self._tokens != 1 else ''}"
        if outcome == "stopped":
            self.summary.setText(f"Stopped after {count}.")
        elif outcome != "finished":
            self.summary.setText(f"Failed after {count}.")
        elif self._refused:
            self.summary.setText("Not generated: the reason is beside Generate.")
        elif self._tokens < self._requested:
            self.summary.setText(f"{count}: the model ended the text with its end-of-text token.")
        else:
            self.summary.setText(f"{count}.")
        self._say(self.recorder.finish(self._store, outcome))
        self.history.refresh()
        self._say(self.branches.finish(self._store, outcome))

    def _say(self, problem: str) -> None:
        if problem:
            self.problem.setText(problem)

    def add_events(self, events: Iterable[Any]) -> None:
        events = tuple(events)  # read twice: here and by the branch explorer
        self.branches.add(events)
        pieces, before = [], self._tokens
        for event in events:
            if isinstance(event, GenerationRefused):
                self._refused = True
                self.problem.setText(for_window(event.reason))
            if isinstance(event, Notice) and event.level == "warning":
                self.problem.setText(for_window(event.message))  # e.g. a prompt cut to the context
            if isinstance(event, GenerationTimed):
                self.figures.timed(event.tokens, event.first_token_s, event.seconds)
            if not isinstance(event, TokenGenerated):
                continue
            self.recorder.add(event)
            if event.sample != self._sample:
                self._sample = event.sample
                if event.sample > 0:
                    pieces.append(f"\n\n--- sample {event.sample + 1} ---\n{self._prompt}")
            pieces.append(event.text)
            self._tokens += 1
        if pieces:
            self.append_text("".join(pieces))
        self.figures.add(self._tokens - before)

    def append_text(self, text: str) -> None:
        cursor = self.output.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)  # plain text: model output is never interpreted as markup
        self.output.setTextCursor(cursor)
        self.output.ensureCursorVisible()

    def restore_generation(self, prompt: str, spec: SampleSpec | None, text: str) -> None:
        """Put a history entry back: its prompt and settings into the editor, its text into the output
        (a fill-mask entry, `spec` None, keeps the settings and shows the filled text)."""
        self.prompt_edit.setPlainText(prompt)
        if spec is not None:
            self.form.set_spec(spec)
        self.output.setPlainText(text if spec is None else prompt + text)
        self.summary.setText("Restored from the history.")
        self.show_view(self.output)  # type: ignore[attr-defined]  # the panel's

    # ---- the history of the other views --------------------------------------------------------

    def record_columns(self, prompt: str, spec: SampleSpec, columns: Sequence[tuple[int, str, int, str]],
                       stopped: bool) -> None:
        """Save each side-by-side column that generated: (column number, run, step, text)."""
        spec = replace(spec, num_samples=1)
        for number, run, step, text in columns:
            problem = record(self._store, run, step, prompt, spec, [text], stopped, "side-by-side",
                             {"column": number})
            if problem:
                self.problem.setText(problem)
                break
        self.history.refresh()

    def record_fill_mask(self, run: str, step: int, text: str, filled: str, top_k: int) -> None:
        """Save a fill-mask result: the text with its masks and the text with each best candidate."""
        self._say(record(self._store, run, step, text, None, [filled], False, "fill-mask", {"top_k": top_k}))
        self.history.refresh()
