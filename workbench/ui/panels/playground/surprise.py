"""The surprise view: any text (typed or pasted), or a slice of the run's validation split, with each
token coloured by the model's loss and the text's perplexity.

It scores with the panel's run and checkpoint. Perplexity here is exp(mean loss) over the tokens
the view colours, so the number and the colours tell the same story (`workbench evaluate --text`
reports the windowed figure, which for a text shorter than the context is the same).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.panels.playground.loss_view import LossLegend, LossTokenView
from workbench.ui.widgets.forms import plain_label, set_available
from workbench.ui.wording import for_window


class SurpriseTab(QWidget):
    """`scoreRequested(run, checkpoint, text or None for the validation slice, start, count)`;
    `choice_of()` gives the panel's (run, checkpoint)."""

    scoreRequested = Signal(str, str, object, int, int)

    def __init__(self, choice_of: Callable[[], tuple[str | None, str | None]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("surpriseTab")
        self._choice_of = choice_of
        self._busy = False
        self._reason = ""
        self.from_text = QRadioButton("This text")
        self.from_text.setObjectName("surpriseFromText")
        self.from_text.setChecked(True)
        self.from_validation = QRadioButton("Validation split, from token")
        self.from_validation.setObjectName("surpriseFromValidation")
        self.start = QSpinBox()
        self.start.setObjectName("surpriseStart")
        self.start.setRange(0, 2**31 - 1)
        self.start.setSingleStep(256)
        self.count = QSpinBox()
        self.count.setObjectName("surpriseCount")
        self.count.setRange(2, 4096)
        self.count.setValue(256)
        self.count.setSuffix(" tokens")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("surpriseTextEdit")
        self.text_edit.setPlaceholderText("Type or paste a text: each token is coloured by how surprised the model is")
        self.text_edit.textChanged.connect(lambda: self.from_text.setChecked(True))
        self.score_button = QPushButton("Score")
        self.score_button.setObjectName("surpriseButton")
        self.score_button.clicked.connect(self.request_score)
        self.view = LossTokenView()
        self.view.setObjectName("surpriseView")
        self.legend = LossLegend()
        self.summary = plain_label("")
        self.summary.setObjectName("surpriseSummary")

        source = QHBoxLayout()
        for widget in (self.from_text, self.from_validation, self.start, plain_label("for", wrap=False), self.count):
            source.addWidget(widget)
        source.addStretch(1)
        source.addWidget(self.score_button)
        split = QSplitter()
        split.addWidget(self.text_edit)
        split.addWidget(self.view)
        split.setChildrenCollapsible(False)
        ending = QHBoxLayout()
        ending.addWidget(self.summary, 1)
        ending.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(source)
        layout.addWidget(split, 1)
        layout.addLayout(ending)
        self.set_available(False, "Open or create a project first.")

    def set_available(self, available: bool, reason: str = "") -> None:
        set_available(self.score_button, available and not self._busy, reason or "Scoring…",
                      "Colour each token by the chosen run's loss and give the perplexity")
        self._reason = reason

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.set_available(not self._reason, self._reason)

    @Slot()
    def request_score(self) -> bool:
        run, checkpoint = self._choice_of()
        if not self.score_button.isEnabled() or run is None:
            return False
        text = None if self.from_validation.isChecked() else self.text_edit.toPlainText()
        if text is not None and not text.strip():
            self.summary.setText("Type or paste a text first, or choose the validation split.")
            return False
        self.summary.setText("Scoring…")
        self.scoreRequested.emit(run, checkpoint or "latest", text, self.start.value(), self.count.value())
        return True

    def show_scores(self, texts: Sequence[str], losses: Sequence[float], perplexity: float, vocab_size: int,
                    where: str) -> None:
        """Colour `texts` by `losses` (nats); `where` says what was scored, with which weights."""
        scale = math.log(max(vocab_size, 2))
        self.legend.set_scale(scale)
        self.view.set_tokens(texts, losses, scale)
        scored = sum(1 for x in losses if math.isfinite(x))
        mean = sum(x for x in losses if math.isfinite(x)) / max(scored, 1)
        self.summary.setText(f"Perplexity {perplexity:,.2f} (mean loss {mean:.3f} nats over {scored:,} predicted "
                             f"tokens) — {where}")

    def show_refusal(self, reason: str) -> None:
        self.view.clear_tokens()
        self.summary.setText(for_window(reason))
