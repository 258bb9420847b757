"""Attention across training: a slider over the run's checkpoint history (`checkpointSlider`), with
a play button (`attentionPlayButton`), for the text in the panel's editor.

Each (run, step, text) is computed once: the result stays in `AttentionCache` (in memory, bounded
by bytes, least recently used dropped first), so moving back to a step already seen shows it at
once (a dictionary look-up and a redraw). A step not cached yet is asked for with
`stepRequested(run, step, text)`; the window computes it as a job and hands it back through
`add_result`. Playing moves one step whenever the step shown has arrived, so it never races ahead
of the computation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPlainTextEdit, QSlider, QToolButton, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.checkpoint_history import list_checkpoints
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.forms import plain_label

PLAY_INTERVAL_MS = 700
CACHE_BYTES = 768 * 2**20  # 12 x 12 x 256 tokens of fp16 is 18 MB: about forty steps of a GPT-2 small


@dataclass(frozen=True)
class StepAttention:
    run: str
    step: int
    text: str
    weights: np.ndarray  # [layers, heads, T, T]
    tokens: tuple[str, ...]
    notice: str = ""


def has_no_attention(store: ProjectStore | None, run: str | None) -> bool:
    """The run is an LSTM (or another model without attention layers)."""
    if store is None or run is None:
        return False
    try:
        spec = store.get_run(run)["model_spec"]
    except WorkbenchError:
        return False
    return isinstance(spec, dict) and spec.get("arch") in ("lstm", "rnn", "gru")


NO_ATTENTION = "which has no attention: choose a GPT-2, Llama or BERT run."


def why_unusable(store: ProjectStore | None, run: str | None) -> str:
    """Why a typed text's attention cannot be computed with `run`: no checkpoint yet, or an LSTM."""
    if store is None or run is None:
        return ""
    if not store.query("SELECT 1 FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = ? LIMIT 1", (run,)):
        return (f"{run} has no checkpoint yet: attention of a typed text needs one (a run saves its "
                "first at its first evaluation).")
    if has_no_attention(store, run):
        return f"{run} is an LSTM, {NO_ATTENTION}"
    return ""


class AttentionCache:
    """(run, step, text) -> StepAttention, least recently used dropped beyond `budget` bytes."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[str, int, str], StepAttention] = OrderedDict()

    def get(self, run: str, step: int, text: str) -> StepAttention | None:
        item = self._items.get((run, step, text))
        if item is not None:
            self._items.move_to_end((run, step, text))
        return item

    def put(self, item: StepAttention) -> None:
        self._items[(item.run, item.step, item.text)] = item
        self._items.move_to_end((item.run, item.step, item.text))
        while len(self._items) > 1 and self.size() > self.budget:
            self._items.popitem(last=False)

    def size(self) -> int:
        return sum(item.weights.nbytes for item in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


class CheckpointTimeline(QWidget):
    """The slider row. `shown(StepAttention)` asks the panel to display a step."""

    stepRequested = Signal(str, int, str)
    shown = Signal(object)

    def __init__(self, store: Callable[[], ProjectStore | None], run: QComboBox, editor: QPlainTextEdit,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store, self._run, self._editor = store, run, editor
        self.cache = AttentionCache()
        self.steps: list[int] = []
        self._listed_run: str | None = None
        self._waiting: tuple[str, int, str] | None = None  # asked for, not arrived yet
        self.play = QToolButton()
        self.play.setObjectName("attentionPlayButton")
        self.play.setCheckable(True)
        self.play.setText("▶ Play")
        self.play.setToolTip("Step through the run's checkpoints, showing the attention of the typed text at each")
        self.play.toggled.connect(self._play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("checkpointSlider")
        self.slider.setToolTip("The checkpoint whose attention is shown: drag across training")
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._slider_moved)
        self.label = plain_label("", wrap=False)
        self.label.setObjectName("checkpointSliderStep")
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(plain_label("Across training", wrap=False))
        layout.addWidget(self.play)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        run.currentIndexChanged.connect(self.refresh)
        self.refresh()

    # ---- the run's checkpoints -----------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """List the chosen run's usable checkpoints; the step chosen stays chosen while listed."""
        store, name = self._store(), self._run.currentData()
        steps: list[int] = []
        if store is not None and name is not None:
            try:
                run_id = int(store.get_run(name)["id"])
                steps = [info.step for info in list_checkpoints(store, run_id, verify=False) if not info.problem]
            except WorkbenchError:  # deleted meanwhile
                steps = []
        if steps == self.steps and name == self._listed_run:
            return
        keep = self.current_step() if name == self._listed_run else None
        self.steps, self._listed_run = steps, name
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(steps) - 1))
        self.slider.setValue(steps.index(keep) if keep in steps else max(0, len(steps) - 1))
        self.slider.blockSignals(False)
        self.setEnabled(len(steps) > 1)
        why = "" if len(steps) > 1 else "Across training needs a run with two checkpoints or more."
        self.setToolTip(why)
        self._update_label()

    def current_step(self) -> int | None:
        return self.steps[self.slider.value()] if self.steps else None

    def select_step(self, step: int, show: bool = True) -> bool:
        """Move the slider to `step`; without `show`, only move it (the map is shown otherwise)."""
        if step not in self.steps:
            return False
        self.slider.blockSignals(not show)
        self.slider.setValue(self.steps.index(step))
        self.slider.blockSignals(False)
        self._update_label()
        return True

    # ---- results -------------------------------------------------------------------------------

    def add_result(self, item: StepAttention) -> None:
        """A computed step: cached, and shown when it is the step chosen (a late one is only kept)."""
        self.cache.put(item)
        if self._waiting == (item.run, item.step, item.text):
            self._waiting = None
        if item.run == self._listed_run and item.step == self.current_step() and item.text == self._text():
            self.shown.emit(item)
        self._update_label()

    def clear_waiting(self) -> None:
        """The asked-for step will not come (its job failed or a newer request replaced it)."""
        self._waiting = None
        self._update_label()

    def _text(self) -> str:
        return self._editor.toPlainText()

    @Slot(int)
    def _slider_moved(self, _index: int) -> None:
        self._update_label()
        self.show_current()

    def show_current(self) -> bool:
        """Show the chosen step's attention for the editor's text: at once when cached, else ask."""
        step, run, text = self.current_step(), self._listed_run, self._text()
        if step is None or run is None or not text.strip() or has_no_attention(self._store(), run):
            return False
        item = self.cache.get(run, step, text)
        if item is not None:
            self.shown.emit(item)
            return True
        if self._waiting != (run, step, text):
            self._waiting = (run, step, text)
            self.stepRequested.emit(run, step, text)
        return False

    def _update_label(self) -> None:
        step = self.current_step()
        if step is None:
            self.label.setText("no checkpoints")
            return
        where = f"step {step} ({self.slider.value() + 1} of {len(self.steps)})"
        computing = self._waiting is not None and self._waiting[1] == step
        self.label.setText(where + (" · computing…" if computing else ""))

    # ---- playing -------------------------------------------------------------------------------

    @Slot(bool)
    def _play_toggled(self, playing: bool) -> None:
        self.play.setText("⏸ Pause" if playing else "▶ Play")
        if playing:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)  # from the start, as a video player does at the end
            self.show_current()
            self.timer.start()
        else:
            self.timer.stop()

    @Slot()
    def _tick(self) -> None:
        if self._waiting is not None:  # the step shown is still being computed: wait for it
            return
        if self.slider.value() >= self.slider.maximum():
            self.play.setChecked(False)
            return
        self.slider.setValue(self.slider.value() + 1)
