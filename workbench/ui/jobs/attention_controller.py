"""The Attention panel's requests as jobs: a typed text's map ("attention") and the head scores
("head-scores"), both in the "interactive" lane (the newest request wins, as for generation).

Kept out of `controller.py` so each file stays readable. The jobs are started through the
JobController's `_start`, so it knows their kinds (closing the window, `active_kinds`) and hands
their ends back here with the checkpoint step each one loaded. The checkpoint slider's steps and the
playground's "Show attention" are `ui/attention_wiring.py`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.engine.runner import Job
from workbench.ui.jobs import backends
from workbench.ui.panels.attention.panel import AttentionPanel
from workbench.ui.status_bar import WorkbenchStatusBar

Factory = Callable[[], Iterator[Any]]
Start = Callable[[str, str, Factory, str], "Job | None"]  # JobController._start(kind, lane, factory, name)
KINDS = ("attention", "head-scores")


class AttentionJobs(QObject):
    def __init__(self, start: Start, store: Callable[[], Any], panel: AttentionPanel, status: WorkbenchStatusBar,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._start, self._store, self.panel, self.status = start, store, panel, status
        panel.attentionRequested.connect(self.start_attention)
        panel.headScoresRequested.connect(self.start_head_scores)

    @Slot(str, str, str)
    def start_attention(self, run: str, checkpoint: str, text: str) -> Job | None:
        if self._store() is None:
            return None
        return self.run_attention(functools.partial(backends.attention_job, self._store(), run, text, checkpoint))

    def run_attention(self, factory: Factory) -> Job | None:
        return self._start("attention", "interactive", factory, "attention")

    @Slot(str, str, str)
    def start_head_scores(self, run: str, checkpoint: str, text: str) -> Job | None:
        if self._store() is None:
            return None
        factory = functools.partial(backends.head_scores_job, self._store(), run, text, checkpoint)
        return self._start("head-scores", "interactive", factory, "head scores")

    def finished(self, kind: str, outcome: str, result: Any, used: backends.CheckpointUsed | None) -> None:
        """A job of one of `KINDS` ended (`used`: the checkpoint step it loaded, when it said)."""
        if kind == "attention" and outcome == "finished" and result is not None:
            self.panel.show_attention(result.weights, result.tokens, getattr(result, "notice", ""))
            if used is not None:
                self.panel.show_checkpoint_used(used.run, used.step)
        elif kind == "head-scores" and outcome == "finished" and result is not None:
            self.panel.show_head_scores(result)
        self.status.clearMessage()  # the job's "Computing…" is over, whatever the outcome
