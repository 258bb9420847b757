"""The built-in sample datasets as cards: what each teaches, what to look for, import in one click."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from workbench.core.samples.builtin import SAMPLES, SampleDataset
from workbench.ui.widgets.forms import plain_label, section_title, set_available


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


class SampleCard(QFrame):
    importClicked = Signal(str)

    def __init__(self, sample: SampleDataset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = sample.key
        self.setObjectName(f"sampleCard-{sample.key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = section_title(sample.title)
        title.setWordWrap(True)
        size = plain_label(f"{_megabytes(sample.default_bytes)} · {sample.suggested_tokenizer} tokenizer · "
                           f"{sample.suggested_preset} model")
        size.setEnabled(False)  # the disabled text colour: secondary information, in either scheme
        description = plain_label(sample.description)
        hint_title = plain_label("What to look for in the attention maps:")
        font = QFont(hint_title.font())
        font.setItalic(True)
        hint_title.setFont(font)
        hint = plain_label(sample.attention_hint)
        self.button = QPushButton("Import")
        self.button.setObjectName(f"importSample-{sample.key}")
        self.button.clicked.connect(self._clicked)
        # The button keeps its place at the right edge: the size line goes under the title and every
        # text wraps, so a narrow dock never pushes Import out of sight.
        heading = QVBoxLayout()
        heading.addWidget(title)
        heading.addWidget(size)
        head = QHBoxLayout()
        head.addLayout(heading, 1)
        head.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(description)
        layout.addWidget(hint_title)
        layout.addWidget(hint)

    @Slot()
    def _clicked(self) -> None:
        self.importClicked.emit(self.key)


class SampleGallery(QScrollArea):
    """objectName `sampleGallery`. `sampleRequested(key)` when a card's Import is clicked."""

    sampleRequested = Signal(str)

    def __init__(self, samples: Iterable[SampleDataset] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sampleGallery")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the cards wrap instead
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(plain_label("Small generated datasets, each made to show one thing a model learns. "
                                     "They need no download."))
        self.cards: dict[str, SampleCard] = {}
        for sample in (SAMPLES.values() if samples is None else samples):
            card = SampleCard(sample)
            card.importClicked.connect(self.sampleRequested)
            layout.addWidget(card)
            self.cards[sample.key] = card
        layout.addStretch(1)
        self.setWidget(body)

    def set_available(self, available: bool, reason: str = "") -> None:
        for card in self.cards.values():
            set_available(card.button, available, reason, "Generate this sample and import it as a dataset")
