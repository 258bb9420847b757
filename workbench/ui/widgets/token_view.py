"""A read-only view of a tokenized text: each token on its own background, alternating two colours.

The text shown is each token's display text (`Tokenizer.token_text`: space as "·", newline as "⏎",
bytes of a split character as "\\xe2"), so a token boundary is visible even inside a word and
whitespace tokens can be seen. After a token that ends in "⏎" the view breaks the line, which keeps
the layout of the original text readable. Special tokens (``<unk>``, ``<|endoftext|>``) get a
third colour. Hovering a token shows its position, id and text in a tooltip.

Everything is plain text: the document is built with `QTextCursor.insertText` and
`QTextCharFormat`, never from HTML, so a token such as ``<b>`` shows as typed.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette, QTextCharFormat, QTextCursor, QTextOption
from PySide6.QtWidgets import QPlainTextEdit, QToolTip, QWidget

from workbench.ui.theme import is_dark
from workbench.ui.widgets.plain_text import plain_tooltip

NEWLINE_MARK = "⏎"
EMPTY_MARK = "∅"  # a token whose display text is empty still needs something to hover
BREAK = "\u200b"  # zero-width space between tokens: lines wrap between tokens, never inside one

# Backgrounds chosen for contrast with the palette's text colour in each scheme.
_LIGHT = ("#cfe2ff", "#ffe0b2", "#f6c1c7")
_DARK = ("#24466f", "#5e4418", "#6f2733")


def token_colors(dark: bool) -> tuple[QColor, QColor, QColor]:
    """(even token, odd token, special token) backgrounds for a light or dark palette."""
    return tuple(QColor(c) for c in (_DARK if dark else _LIGHT))  # type: ignore[return-value]


class TokenView(QPlainTextEdit):
    """Shows tokens with alternating backgrounds; `tooltip_at(index)` is what hovering shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.viewport().setMouseTracking(True)
        self._ids: list[int] = []
        self._texts: list[str] = []
        self._starts: list[int] = []  # document position where each token starts
        self._special: frozenset[int] = frozenset()
        self._unknown: int | None = None
        self._total = 0
        self._rendering = False

    # ---- content -------------------------------------------------------------------------------

    def set_tokens(self, ids: Sequence[int], texts: Sequence[str], special_ids: Collection[int] = (),
                   total: int | None = None, unknown_id: int | None = None) -> None:
        """Show `ids` with their display `texts`. `total` > len(ids) when only the first tokens are given;
        tokens `unknown_id` are named unknown in their tooltip (their text is what they replaced)."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} token ids but {len(texts)} texts")
        self._ids = [int(i) for i in ids]
        self._texts = [str(t) for t in texts]
        self._special = frozenset(int(i) for i in special_ids)
        self._unknown = unknown_id
        self._total = len(self._ids) if total is None else max(int(total), len(self._ids))
        self._render()

    def clear_tokens(self, message: str = "") -> None:
        self._ids, self._texts, self._starts, self._total = [], [], [], 0
        self._rendering = True
        try:
            self.setPlainText("")
            self.setPlaceholderText(message)
        finally:
            self._rendering = False

    def token_count(self) -> int:
        """Tokens shown (the first ones when the text had more than were sent)."""
        return len(self._ids)

    def token_ids(self) -> list[int]:
        return list(self._ids)

    def token_texts(self) -> list[str]:
        return list(self._texts)

    def shown_text(self) -> str:
        """What the view shows, without the invisible break opportunities between tokens."""
        return self.toPlainText().replace(BREAK, "")

    def _render(self) -> None:
        self._rendering = True
        try:
            self.setPlainText("")
            backgrounds = token_colors(is_dark(self.palette()))
            formats = []
            for color in backgrounds:
                fmt = QTextCharFormat()
                fmt.setBackground(color)
                fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
                formats.append(fmt)
            plain = QTextCharFormat()
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            starts = []
            for index, (token_id, text) in enumerate(zip(self._ids, self._texts, strict=True)):
                fmt = formats[2] if token_id in self._special else formats[index % 2]
                starts.append(cursor.position())
                cursor.insertText(text or EMPTY_MARK, fmt)
                cursor.insertText("\n" if text.endswith(NEWLINE_MARK) else BREAK, plain)
            if self._total > len(self._ids):
                cursor.insertText(f"\n… {self._total - len(self._ids):,} more tokens not shown", plain)
            cursor.endEditBlock()
            self._starts = starts
            self.moveCursor(QTextCursor.MoveOperation.Start)
        finally:
            self._rendering = False

    # ---- hovering ------------------------------------------------------------------------------

    def token_index_at_position(self, position: int) -> int | None:
        """The token covering document position `position`, or None (a line break, the tail note)."""
        index = bisect.bisect_right(self._starts, position) - 1
        if index < 0:
            return None
        end = self._starts[index] + len((self._texts[index] or EMPTY_MARK).encode("utf-16-le")) // 2
        return index if position < end else None

    def token_index_at(self, point: QPoint) -> int | None:
        """The token under `point` (viewport coordinates)."""
        cursor = self.cursorForPosition(point)
        position = cursor.position()
        if self.cursorRect(cursor).center().x() > point.x() and position > 0:
            position -= 1  # the nearest boundary is right of the pointer: the character is before it
        return self.token_index_at_position(position)

    def token_rect(self, index: int):
        """The viewport rectangle of the start of token `index` (for tests and hover helpers)."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._starts[index])
        rect = self.cursorRect(cursor)
        cursor.setPosition(self._starts[index] + 1)
        return rect.united(self.cursorRect(cursor))

    def tooltip_at(self, index: int) -> str:
        """Plain text (shown through `plain_tooltip`, so a token such as "<b>" shows as typed)."""
        token_id, text = self._ids[index], self._texts[index]
        kind = ", unknown (not in the vocabulary)" if token_id == self._unknown else \
            ", a special token" if token_id in self._special else ""
        return f"Token {index + 1:,} of {self._total:,}, id {token_id}{kind}\n{text or EMPTY_MARK}"

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.token_index_at(event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), plain_tooltip(self.tooltip_at(index)), self.viewport())
            return True
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._ids and not self._rendering:
            self._render()  # the backgrounds follow light and dark
