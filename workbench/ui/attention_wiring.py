"""The main window's wiring of the attention explorer's own jobs (panels never import each other):

- the Attention panel's checkpoint slider asks for one step of the text (`stepRequested`): the
  result goes back to the slider, which caches it and shows it;
- the Playground's "Show attention" (`requested(run, checkpoint, prompt, text)`): the text opens in
  the Attention panel, computed under the weights that generated it, the generated part marked.

Both run `attention_jobs.attention_at_job` in the "interactive" lane (the newest request wins, as
for a typed text), started on the runner directly: this object, not the JobController, follows
their ends, so the controller's one-map path stays as it was.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDockWidget

from workbench.core.base.errors import WorkbenchError
from workbench.ui import errors
from workbench.ui.jobs.attention_jobs import AttentionComputed, attention_at_job
from workbench.ui.jobs.controller import JobController
from workbench.ui.jobs.panels import Panels
from workbench.ui.panels.attention.timeline import StepAttention, has_no_attention


class AttentionWiring(QObject):
    def __init__(self, window: Any, jobs: JobController, panels: Panels, docks: dict[str, QDockWidget]) -> None:
        super().__init__(window)
        self.window, self.jobs, self.panels, self.docks = window, jobs, panels, docks
        self._purposes: dict[int, str] = {}  # job id -> "step" | "generated"
        panels.attention.timeline.stepRequested.connect(self.compute_step)
        panels.playground.show_attention_button.requested.connect(self.show_generated)
        jobs.runner.jobFinished.connect(self._on_finished)

    @Slot(str, int, str)
    def compute_step(self, run: str, step: int, text: str) -> bool:
        return self._start("step", run, str(step), text, None)

    @Slot(str, str, str, str)
    def show_generated(self, run: str, checkpoint: str, prompt: str, text: str) -> bool:
        attention = self.panels.attention
        attention.select_checkpoint(run, int(checkpoint) if checkpoint.isdigit() else -1)
        attention.text_edit.setPlainText(text)
        if has_no_attention(self.window.store, run):  # said in the panel, no error dialog
            attention.notice.setText(f"{run} is an LSTM, which has no attention: choose a GPT-2, Llama or BERT run.")
            self.docks["attention"].show()
            return False
        self.docks["attention"].show()
        self.docks["attention"].raise_()
        return self._start("generated", run, checkpoint, text, prompt)

    def _start(self, purpose: str, run: str, checkpoint: str, text: str, prompt: str | None) -> bool:
        store = self.window.store
        if store is None:
            return False
        factory = functools.partial(attention_at_job, store, run, checkpoint, text, prompt)
        try:
            job = self.jobs.runner.start("interactive", factory, name="attention")
        except WorkbenchError as exc:
            errors.show_error(self.window, str(exc))
            return False
        self._purposes[job.id] = purpose
        return True

    @Slot(int, str, str, object)
    def _on_finished(self, job_id: int, lane: str, outcome: str, result: object) -> None:
        purpose = self._purposes.pop(job_id, None)
        if purpose is None:
            return
        attention = self.panels.attention
        if outcome != "finished" or not isinstance(result, AttentionComputed):
            if purpose == "step":
                attention.timeline.clear_waiting()  # replaced or failed: the slider may ask again
            return
        item = StepAttention(result.run, result.step, result.text, result.weights, result.tokens, result.notice)
        if purpose == "step":
            attention.timeline.add_result(item)
            return
        attention.timeline.cache.put(item)  # the slider shows it again without computing
        attention.timeline.select_step(result.step, show=False)
        attention.show_attention(result.weights, result.tokens, result.notice)
        attention.show_checkpoint_used(result.run, result.step)
        generated = len(result.tokens) - (result.marked_from or 0)
        attention.mark_generated(result.marked_from, (f"{result.notice} " if result.notice else "")
                                 + f"The last {generated} tokens were generated (marked).")
        self.window.status.showMessage(f"The generated text is open in the Attention panel (step {result.step}).",
                                       6000)
