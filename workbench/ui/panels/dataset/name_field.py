"""A name entry that checks itself as the user types: empty or already taken is marked at once.

Used by the import dialog (dataset names) and the tokenizer form (tokenizer names). The message
under the field says what is wrong; the field shows a warning icon; `validityChanged` lets the
dialog disable its OK button.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLineEdit, QStyle, QVBoxLayout, QWidget

from workbench.ui.theme import is_dark
from workbench.ui.widgets.forms import plain_label
from workbench.ui.widgets.plain_text import plain_tooltip

MAX_NAME = 120


def error_color(palette: QPalette) -> QColor:
    """A red readable on the window background of either scheme."""
    return QColor("#ff7b7b" if is_dark(palette) else "#b3261e")


def free_name(stem: str, taken: Iterable[str]) -> str:
    """`stem`, or `stem-2`, `stem-3`, ... whichever is not taken."""
    taken = set(taken)
    stem = stem.strip() or "dataset"
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    return name


class NameField(QWidget):
    """A QLineEdit plus an inline message. `what` names the thing: "dataset", "tokenizer"."""

    validityChanged = Signal(bool)  # whenever the problem changes; True when there is none

    def __init__(self, what: str, taken: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self._taken = set(taken)
        self._problem: str | None = None
        self.edit = QLineEdit()
        self.edit.setMaxLength(MAX_NAME)
        self.edit.setClearButtonEnabled(True)
        self.edit.setPlaceholderText(f"a name for the {what}")
        self._warning = self.edit.addAction(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
                                            QLineEdit.ActionPosition.TrailingPosition)
        self.message = plain_label("")
        self.message.setObjectName("nameMessage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)
        self.edit.textChanged.connect(self._check)
        self._check()

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def set_taken(self, names: Iterable[str]) -> None:
        self._taken = set(names)
        self._check()

    def taken(self) -> set[str]:
        return set(self._taken)

    def problem(self) -> str:
        """"" when the name can be used; otherwise what to change."""
        name = self.text()
        if not name:
            return f"Enter a name for the {self.what}."
        if name in self._taken:
            return f"A {self.what} with this name already exists in the project; choose another name."
        return ""

    def is_valid(self) -> bool:
        return not self.problem()

    @Slot()
    def _check(self) -> None:
        problem = self.problem()
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        self._warning.setVisible(bool(problem))
        self._warning.setToolTip(plain_tooltip(problem))  # it quotes the typed name
        palette = self.message.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()))
        self.message.setPalette(palette)
        if self._problem != problem:  # also from one problem to another: the OK button's tooltip follows
            self._problem = problem
            self.validityChanged.emit(not problem)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._check()  # the message's red follows light and dark
