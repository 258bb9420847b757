"""The dataset panel's progress line: what runs, how far it is, and Cancel. Hidden when idle."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from workbench.core.base.events import Notice, Progress
from workbench.ui.widgets.forms import human_count, plain_label

STAGES = {"read": "reading", "split": "writing train and validation", "hash": "checking",
          "generate": "generating", "train-tokenizer": "training", "save-tokenizer": "saving",
          "encode": "encoding the dataset", "load-tokenizer": "loading"}


class JobBar(QWidget):
    """`begin(title)`, `show_events(events)`, `end()`; `cancel_button.clicked` is the user's Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = ""
        self.label = plain_label("", wrap=False)
        self.progress = QProgressBar()
        self.progress.setObjectName("dataJobProgress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelDataJobButton")
        self.cancel_button.setToolTip("Stop; nothing half-made is kept")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self.end()

    def begin(self, title: str) -> None:
        self.title = title
        self.label.setText(title)
        self.progress.setRange(0, 0)  # busy until the first report
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    def show_events(self, events: Iterable[Any]) -> None:
        for event in events:
            if isinstance(event, Progress):
                stage = STAGES.get(event.stage, event.stage.replace("-", " "))
                if event.total:
                    self.progress.setRange(0, 1000)
                    self.progress.setValue(int(1000 * min(event.done, event.total) / event.total))
                else:
                    self.progress.setRange(0, 0)
                done = human_count(event.done, "B") if event.unit == "bytes" else f"{event.done:,} {event.unit}"
                self.label.setText(f"{self.title}: {stage}, {event.message or done}")
            elif isinstance(event, Notice) and event.level == "warning":
                self.label.setText(f"{self.title}: {event.message}")

    def cancelling(self) -> None:
        self.label.setText(f"{self.title}: cancelling…")
        self.cancel_button.setEnabled(False)

    def end(self) -> None:
        self.title = ""
        self.setVisible(False)
