"""The form that makes a new tokenizer: character level, BPE of a chosen size, or a pretrained one.

It only describes the tokenizer (a `TokenizerSpec`) and asks for it with `trainRequested`; the
main window runs the training as a job with progress and Cancel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from workbench.core.base.specs import TokenizerSpec
from workbench.ui.panels.dataset.name_field import NameField, free_name
from workbench.ui.widgets.forms import set_available

KINDS = (("char", "Character"), ("bpe", "BPE (byte level)"), ("pretrained", "Pretrained"))
KIND_TIPS = {
    "char": "One token per character seen in the dataset; unseen characters become <unk>",
    "bpe": "Byte-pair encoding trained on the dataset: no unknown tokens, fewer tokens per character",
    "pretrained": "A Hugging Face tokenizer from a local folder or a hub id (offline: a folder)",
}


class TokenizerForm(QGroupBox):
    """objectName `tokenizerForm`. Emits `trainRequested(dataset name, TokenizerSpec)`."""

    trainRequested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("New tokenizer", parent)
        self.setObjectName("tokenizerForm")
        self._auto_name = ""
        self._blocked = "Open or create a project first."
        self.dataset = QComboBox()
        self.dataset.setObjectName("tokenizerDatasetCombo")
        self.dataset.setToolTip("The dataset whose training split the tokenizer learns from")
        self.kind = QComboBox()
        self.kind.setObjectName("tokenizerKindCombo")
        for key, label in KINDS:
            self.kind.addItem(label, key)
            self.kind.setItemData(self.kind.count() - 1, KIND_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.vocab_size = QSpinBox()
        self.vocab_size.setObjectName("tokenizerVocabSize")
        self.vocab_size.setRange(260, 1_000_000)
        self.vocab_size.setSingleStep(256)
        self.vocab_size.setGroupSeparatorShown(True)
        self.vocab_size.setValue(TokenizerSpec(name="x").vocab_size)
        self.vocab_size.setToolTip("BPE vocabulary size, special tokens and the 256 bytes included")
        self.source = QLineEdit()
        self.source.setObjectName("tokenizerSource")
        self.source.setPlaceholderText("folder with tokenizer.json, or a hub id")
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose a folder that holds a Hugging Face tokenizer")
        browse.clicked.connect(self._browse)
        source_row = QWidget()
        source_layout = QHBoxLayout(source_row)
        source_layout.setContentsMargins(0, 0, 0, 0)
        source_layout.addWidget(self.source, 1)
        source_layout.addWidget(browse)
        self.name = NameField("tokenizer")
        self.name.edit.setObjectName("tokenizerNameEdit")
        self.train_button = QPushButton("Train Tokenizer")
        self.train_button.setObjectName("trainTokenizerButton")
        self.train_button.clicked.connect(self.request)

        form = QFormLayout(self)
        form.addRow("Train on:", self.dataset)
        form.addRow("Kind:", self.kind)
        form.addRow("Vocabulary:", self.vocab_size)
        form.addRow("Source:", source_row)
        self._source_row = source_row
        form.addRow("Name:", self.name)
        form.addRow("", self.train_button)
        self._form = form
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.dataset.currentIndexChanged.connect(self._suggest_name)
        self.vocab_size.valueChanged.connect(self._suggest_name)
        self.name.validityChanged.connect(self._update_button)
        self.source.textChanged.connect(self._update_button)
        self._kind_changed()

    # ---- state from the panel ------------------------------------------------------------------

    def set_datasets(self, names: Sequence[str], selected: str | None = None) -> None:
        current = selected or self.dataset.currentText()
        self.dataset.blockSignals(True)
        try:
            self.dataset.clear()
            self.dataset.addItems(list(names))
            self.dataset.setCurrentIndex(max(0, self.dataset.findText(current)))
        finally:
            self.dataset.blockSignals(False)
        self._suggest_name()

    def select_dataset(self, name: str) -> None:
        index = self.dataset.findText(name)
        if index >= 0:
            self.dataset.setCurrentIndex(index)

    def set_taken_names(self, names: Iterable[str]) -> None:
        self.name.set_taken(names)
        self._suggest_name()

    def set_blocked(self, reason: str) -> None:
        """"" lets the user train; otherwise the reason the button is disabled."""
        self._blocked = reason
        self._update_button()

    # ---- the spec ------------------------------------------------------------------------------

    def kind_key(self) -> str:
        return str(self.kind.currentData())

    def spec(self) -> TokenizerSpec:
        kind = self.kind_key()
        return TokenizerSpec(name=self.name.text(), kind=kind,  # type: ignore[arg-type]
                             vocab_size=self.vocab_size.value(),
                             source=self.source.text().strip() or None if kind == "pretrained" else None)

    def problem(self) -> str:
        if self._blocked:
            return self._blocked
        if not self.dataset.currentText():
            return "Import a dataset first: a tokenizer is made from a dataset."
        if self.kind_key() == "pretrained" and not self.source.text().strip():
            return "Enter the folder (or hub id) of the pretrained tokenizer."
        return self.name.problem()

    @Slot()
    def request(self) -> bool:
        if self.problem():
            return False
        self.trainRequested.emit(self.dataset.currentText(), self.spec())
        return True

    # ---- reactions -----------------------------------------------------------------------------

    @Slot()
    def _kind_changed(self) -> None:
        kind = self.kind_key()
        self._form.setRowVisible(self.vocab_size, kind == "bpe")
        self._form.setRowVisible(self._source_row, kind == "pretrained")
        self.kind.setToolTip(KIND_TIPS[kind])
        self._suggest_name()

    @Slot()
    def _suggest_name(self) -> None:
        """Keep proposing `dataset-kind` until the user types a name of their own."""
        if self.name.text() and self.name.text() != self._auto_name:
            return
        stem = f"{self.dataset.currentText() or 'tokenizer'}-{self.kind_key()}"
        if self.kind_key() == "bpe":
            stem += f"-{self.vocab_size.value()}"
        self._auto_name = free_name(stem, self.name.taken())
        self.name.set_text(self._auto_name)
        self._update_button()

    @Slot()
    def _update_button(self) -> None:
        problem = self.problem()
        set_available(self.train_button, not problem, problem,
                      "Train the tokenizer, then encode the dataset with it (a job you can cancel)")

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Pretrained tokenizer folder", self.source.text())
        if folder:
            self.source.setText(folder)
