"""The tokenizer lab: one sample text, two tokenizers side by side, tokens and numbers for each.

The text is editable and starts as the beginning of the selected dataset. Encoding runs as a job
(a tokenizer may need loading, a pasted text may be long): the lab asks with `encodeRequested`
after the user pauses typing and shows what `show_encoding` brings back, ignoring answers to
questions it no longer asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.widgets.forms import plain_label, section_title
from workbench.ui.widgets.token_view import TokenView

SLOTS = ("a", "b")
ENCODE_DELAY_MS = 300
NO_TOKENIZER = "(none)"


def describe_encoding(result: Any) -> str:
    """One line of numbers for an `Encoding` (see `workbench.ui.jobs.dataset`)."""
    return (f"{result.token_count:,} tokens · {result.tokens_per_char:.3f} tokens per character\n"
            f"{100 * result.char_coverage:.1f} % of characters known · "
            f"{result.distinct_ids:,} of {result.vocab_size:,} tokens used ({100 * result.vocab_used:.1f} %)")


def _choose(combo: QComboBox, tokenizer_id: int | None) -> None:
    combo.setCurrentIndex(max(0, combo.findData(tokenizer_id)) if tokenizer_id is not None else 0)


class TokenizerColumn(QWidget):
    """A tokenizer picker, its numbers and its token view."""

    def __init__(self, slot: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot = slot
        self.combo = QComboBox()
        self.combo.setObjectName(f"labTokenizer{slot.upper()}")
        self.numbers = plain_label("")
        self.numbers.setObjectName(f"labNumbers{slot.upper()}")
        self.view = TokenView()
        self.view.setObjectName(f"tokenView{slot.upper()}")
        self.result: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.numbers)
        layout.addWidget(self.view, 1)

    def tokenizer_id(self) -> int | None:
        data = self.combo.currentData()
        return int(data) if data is not None else None


class TokenizerLab(QWidget):
    """objectName `tokenizerLab`. Emits `encodeRequested(slot, tokenizer id, text)`, `sampleResetRequested()`."""

    encodeRequested = Signal(str, int, str)
    sampleResetRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tokenizerLab")
        self._from_dataset = True  # the text is the dataset's start, not the user's
        self._asked: dict[str, tuple[int, str] | None] = dict.fromkeys(SLOTS)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("labTextEdit")
        self.text_edit.setPlaceholderText("Type or paste a text to tokenize")
        self.text_edit.setMaximumHeight(110)
        self.reset_button = QPushButton("Dataset Start")
        self.reset_button.setObjectName("labResetButton")
        self.reset_button.setToolTip("Put the start of the selected dataset back into the text box")
        self.reset_button.clicked.connect(self.sampleResetRequested)
        self.columns = {slot: TokenizerColumn(slot) for slot in SLOTS}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ENCODE_DELAY_MS)
        self._timer.timeout.connect(self.encode_now)

        head = QHBoxLayout()
        head.addWidget(section_title("Sample text"), 1)
        head.addWidget(self.reset_button)
        split = QSplitter()
        split.setChildrenCollapsible(False)
        for column in self.columns.values():
            split.addWidget(column)
            column.combo.currentIndexChanged.connect(self._schedule)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.text_edit)
        layout.addWidget(plain_label("Hover a token for its id. Pick a second tokenizer on the right to compare."))
        layout.addWidget(split, 1)
        self.text_edit.textChanged.connect(self._text_edited)
        self.set_tokenizers([])

    # ---- inputs --------------------------------------------------------------------------------

    def set_tokenizers(self, tokenizers: Sequence[tuple[int, str]]) -> None:
        """`tokenizers`: (id, label). Keeps the choices that still exist; B starts on a second one."""
        ids = [tid for tid, _label in tokenizers]
        for slot, column in self.columns.items():
            keep = column.tokenizer_id()
            with QSignalBlocker(column.combo):
                column.combo.clear()
                column.combo.addItem(NO_TOKENIZER, None)
                for tid, label in tokenizers:
                    column.combo.addItem(label, tid)
                if keep not in ids:
                    keep = ids[0] if slot == "a" and ids else (ids[1] if len(ids) > 1 else None)
                _choose(column.combo, keep)
        self._schedule()

    def select_tokenizer(self, slot: str, tokenizer_id: int | None) -> None:
        """Show `tokenizer_id` in column `slot`. If the other column shows it already, that column takes
        the one `slot` showed: two columns of the same tokenizer compare nothing (a newly trained
        tokenizer goes to column A, and the one it replaces there moves to B)."""
        column = self.columns[slot]
        replaced = column.tokenizer_id()
        other = self.columns[SLOTS[1 - SLOTS.index(slot)]]
        if tokenizer_id is not None and other.tokenizer_id() == tokenizer_id and replaced != tokenizer_id:
            _choose(other.combo, replaced)
        _choose(column.combo, tokenizer_id)

    def set_sample_text(self, text: str, *, from_dataset: bool = True, force: bool = False) -> None:
        """Show `text` unless the user typed their own (`force` replaces it anyway)."""
        if not force and not self._from_dataset:
            return
        with QSignalBlocker(self.text_edit):
            self.text_edit.setPlainText(text)
        self._from_dataset = from_dataset
        self._schedule()

    def text(self) -> str:
        return self.text_edit.toPlainText()

    @Slot()
    def _text_edited(self) -> None:
        self._from_dataset = False
        self._schedule()

    @Slot()
    def _schedule(self) -> None:
        self._timer.start()

    @Slot()
    def encode_now(self) -> None:
        """Ask for the encodings the columns need now (skipping ones already shown for this text)."""
        self._timer.stop()
        text = self.text()
        for slot, column in self.columns.items():
            tid = column.tokenizer_id()
            if tid is None or not text:
                self._asked[slot] = None
                column.result = None
                column.view.clear_tokens("Choose a tokenizer above." if tid is None else "Type a text to tokenize.")
                column.numbers.setText("")
                continue
            question = (tid, text)
            if self._asked[slot] == question:
                continue
            self._asked[slot] = question
            column.numbers.setText("Encoding…")
            self.encodeRequested.emit(slot, tid, text)

    # ---- answers -------------------------------------------------------------------------------

    def is_current(self, slot: str, tokenizer_id: int, text: str) -> bool:
        return self._asked.get(slot) == (tokenizer_id, text)

    def show_encoding(self, slot: str, text: str, result: Any) -> bool:
        """Show an `Encoding` of `text`; False (ignored) when the column has moved on since it asked."""
        if not self.is_current(slot, result.tokenizer_id, text):
            return False
        column = self.columns[slot]
        column.result = result
        column.numbers.setText(describe_encoding(result))
        column.view.set_tokens(result.ids, result.texts, result.special_ids, total=result.token_count,
                               unknown_id=result.unknown_id)
        return True

    def show_failure(self, slot: str, tokenizer_id: int, text: str, message: str) -> None:
        if self.is_current(slot, tokenizer_id, text):
            self._asked[slot] = None  # asking again may work (the tokenizer may be repaired)
            self.columns[slot].numbers.setText(f"Could not encode: {message}")
            self.columns[slot].view.clear_tokens()
