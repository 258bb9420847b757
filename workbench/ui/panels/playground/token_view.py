"""The generated text token by token: coloured by probability or surprise, alternatives on hover,
and a click on a token offers its alternatives to branch from.

The prompt is shown plain; each generated token after it is one run of text with its own format
(`TokenView`'s hit testing finds the token under the pointer). Tokens stream in with `append`,
which adds to the end of the document instead of building it again. With `compare_with`, a second
text follows the first and both are marked from the first token where they differ.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QMenu, QWidget

from workbench.core.project.branch_trees import BranchToken
from workbench.ui.panels.playground.token_colors import PROBABILITY, surprise_bits, token_color
from workbench.ui.theme import is_dark
from workbench.ui.widgets.token_view import BREAK, EMPTY_MARK, NEWLINE_MARK, TokenView


def _percent(prob: float | None) -> str:
    return "not recorded" if prob is None else f"{prob:.1%}" if prob >= 0.001 else f"{prob:.2g}"


def token_tooltip(token: BranchToken, index: int) -> str:
    """Plain text: the token's probabilities and its alternatives before and after the sampler."""
    lines = [f"Token {index + 1}: {token.text!r}",
             f"probability {_percent(token.prob)} (model), {_percent(token.prob_sampled)} (after the sampler); "
             f"surprise {surprise_bits(token.prob):.2f} bits"]
    if token.alternatives:
        lines.append("Top alternatives: model -> after temperature/top-k/top-p/min-p")
        lines += [f"  {alt.name or EMPTY_MARK}   {_percent(alt.prob)} -> {_percent(alt.prob_sampled)}"
                  for alt in token.alternatives]
        lines.append("Click the token to continue with an alternative instead.")
    return "\n".join(lines)


class ProbabilityView(TokenView):
    """objectName `tokenProbabilityView`. `branchRequested(token index, alternative index)`."""

    branchRequested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tokenProbabilityView")
        self.setPlaceholderText("Generate to see each token; turn on the colours to see how likely each one was.")
        self.colored = False
        self.mode = PROBABILITY
        self._prompt = ""
        self._tokens: list[BranchToken] = []
        self._other: tuple[str, list[BranchToken], int] | None = None  # compared text: prompt, tokens, diff
        self._differ = -1  # first differing token when comparing

    # ---- content -------------------------------------------------------------------------------

    def show_text(self, prompt: str, tokens: Sequence[BranchToken]) -> None:
        self._prompt, self._tokens, self._other = prompt, list(tokens), None
        self._render()

    def compare_with(self, first: tuple[str, Sequence[BranchToken]], second: tuple[str, Sequence[BranchToken]],
                     differ: int) -> None:
        """Show two texts (prompt, tokens), one below the other, each marked from token `differ` on."""
        self._prompt, self._tokens = first[0], list(first[1])
        self._other, self._differ = (second[0], list(second[1]), differ), differ
        self._render()

    def append(self, tokens: Sequence[BranchToken]) -> None:
        """Stream more tokens onto the end of the text now shown."""
        if self._other is not None:
            self.show_text(self._prompt, self._tokens)
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        dark = is_dark(self.palette())
        for token in tokens:
            self._insert(cursor, token, len(self._tokens), dark)
            self._tokens.append(token)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def set_coloring(self, colored: bool, mode: str | None = None) -> None:
        self.colored = colored
        self.mode = mode or self.mode
        self._render()

    def tokens(self) -> list[BranchToken]:
        return list(self._tokens)

    def shown_text(self) -> str:
        """The text as generated: without the marks for line breaks and empty tokens."""
        return super().shown_text().replace(NEWLINE_MARK + "\n", "\n").replace(EMPTY_MARK, "")

    def comparing(self) -> bool:
        return self._other is not None

    def _format(self, token: BranchToken, dark: bool, marked: bool = False) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        if self.colored:
            fmt.setBackground(token_color(token.prob, self.mode, dark))
        if marked:
            fmt.setFontUnderline(True)
            fmt.setFontWeight(QFont.Weight.Bold)
            if not self.colored:
                fmt.setBackground(QColor("#5e4418" if dark else "#ffe0b2"))
        return fmt

    def _insert(self, cursor: QTextCursor, token: BranchToken, index: int, dark: bool, marked: bool = False) -> None:
        # A line break shows as a mark before it: the mark can be coloured and hovered, an end of line cannot.
        shown = (token.text[:-1] + NEWLINE_MARK) if token.text.endswith("\n") else (token.text or EMPTY_MARK)
        self._starts.append(cursor.position())
        self._texts.append(shown)
        self._ids.append(index)
        cursor.insertText(shown, self._format(token, dark, marked))
        cursor.insertText("\n" if shown.endswith(NEWLINE_MARK) else BREAK, QTextCharFormat())

    def _render(self) -> None:
        self._rendering = True
        try:
            self.setPlainText("")
            self._ids, self._texts, self._starts = [], [], []
            dark = is_dark(self.palette())
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            cursor.insertText(self._prompt, QTextCharFormat())  # plain: never markup
            comparing = self._other is not None
            for index, token in enumerate(self._tokens):
                self._insert(cursor, token, index, dark, comparing and index >= self._differ)
            self._total = len(self._tokens)
            if self._other is not None:
                prompt, second, differ = self._other
                cursor.insertText("\n\n――― compared with ―――\n\n" + prompt, QTextCharFormat())
                for index, token in enumerate(second):
                    self._insert(cursor, token, index, dark, index >= differ)
            cursor.endEditBlock()
        finally:
            self._rendering = False

    # ---- hovering and branching ----------------------------------------------------------------

    def tooltip_at(self, index: int) -> str:
        token = self._token_at(index)
        return token_tooltip(token, self._ids[index]) if token is not None else ""

    def _token_at(self, shown: int) -> BranchToken | None:
        """The token at shown position `shown` (the compared text's tokens follow the first text's)."""
        if shown < len(self._tokens):
            return self._tokens[shown]
        if self._other is not None and shown - len(self._tokens) < len(self._other[1]):
            return self._other[1][shown - len(self._tokens)]
        return None

    def alternatives_menu(self, index: int) -> QMenu:
        """A menu of token `index`'s alternatives; choosing one emits `branchRequested`."""
        menu = QMenu(self)
        menu.setObjectName("alternativesMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        token = self._tokens[index]
        for number, alt in enumerate(token.alternatives):
            action = menu.addAction(f"Continue with {alt.name or EMPTY_MARK!s}   "
                                    f"{_percent(alt.prob)} -> {_percent(alt.prob_sampled)}")
            if not alt.text:
                action.setEnabled(False)  # a special token has no text to continue from
                action.setToolTip("A special token: there is no text to continue from")
            action.triggered.connect(lambda _=False, i=index, n=number: self.branchRequested.emit(i, n))
        if not token.alternatives:
            menu.addAction("No alternatives were recorded for this token").setEnabled(False)
        return menu

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self.textCursor().hasSelection() or self._other is not None:
            return  # selecting text to copy, or comparing: no branching
        index = self.token_index_at(event.position().toPoint())
        if index is not None and index < len(self._tokens):
            self.alternatives_menu(index).popup(self.viewport().mapToGlobal(event.position().toPoint()))

    def changeEvent(self, event: QEvent) -> None:
        super(TokenView, self).changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._rendering and (self._tokens or self._prompt):
            self._render()  # the colours follow light and dark
