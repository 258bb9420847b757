"""Live figures of the generation now shown: time to the first token and tokens per second.

Tokens per second counts from the first token on, so loading the checkpoint (which the first-token
time shows) does not drag it down; it is what the sampler itself manages on this machine.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QWidget

from workbench.ui.widgets.forms import plain_label


class LiveFigures:
    """Owns the `generationSpeed` label; fed by the panel as events arrive (at the GUI's <= 10 Hz)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.label = plain_label("", parent, wrap=False)
        self.label.setObjectName("generationSpeed")
        self.label.setToolTip("Time from Generate to the first token, and tokens per second since then")
        self._started = 0.0
        self._first = 0.0
        self._tokens = 0
        self._first_batch = 0
        self._final = False  # the job's own timing arrived: batches no longer change the figures

    def begin(self) -> None:
        self._started = time.perf_counter()
        self._first = 0.0
        self._tokens = 0
        self._first_batch = 0
        self._final = False
        self.label.setText("")

    def add(self, tokens: int) -> None:
        if tokens <= 0 or not self._started:
            return
        now = time.perf_counter()
        if not self._tokens:
            self._first, self._first_batch = now, tokens  # tokens/s counts what came after this batch
        self._tokens += tokens
        if not self._final:
            self.label.setText(self.text(now))

    def timed(self, tokens: int, first_token_s: float, seconds: float) -> None:
        """The job's own timing, as the text ends: exact where the batches were not."""
        self._final = True
        rate = (tokens - 1) / seconds if tokens > 1 and seconds > 0 else None
        first = f"first token {first_token_s * 1000:,.0f} ms"
        self.label.setText(first if rate is None else f"{first} · {rate:,.1f} tokens/s")

    def text(self, now: float | None = None) -> str:
        if not self._tokens:
            return ""
        now = time.perf_counter() if now is None else now
        first = f"first token {(self._first - self._started) * 1000:,.0f} ms"
        rate = self.tokens_per_s(now)
        return first if rate is None else f"{first} · {rate:,.1f} tokens/s"

    def tokens_per_s(self, now: float | None = None) -> float | None:
        span = (time.perf_counter() if now is None else now) - self._first
        later = self._tokens - self._first_batch
        return later / span if later > 0 and span > 0 else None
