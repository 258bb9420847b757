"""User strings shown as typed: tooltips and message boxes that never interpret them as HTML.

Names, paths, tokens and messages that quote them come from projects that people share, so they are
untrusted. Qt guesses the format of a QLabel's, a QMessageBox's and a tooltip's text: whatever
`Qt.mightBeRichText` calls rich (a tag such as `<b>` or `<img src=...>` before the first line break)
is rendered as HTML. Labels use `forms.plain_label`; tooltips and message boxes go through here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # PySide6 keeps mightBeRichText and convertFromPlainText here
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QMessageBox, QWidget

Button = QMessageBox.StandardButton


def plain_tooltip(text: str) -> str:
    """`text` as a tooltip that shows literally. A tooltip has no text-format switch, so text Qt would
    take for rich text is escaped into HTML that renders as the original characters; any other text
    is returned unchanged (so it still reads back as itself from `toolTip()`)."""
    if not GuiQt.mightBeRichText(text):
        return text
    return GuiQt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpacePre)


def tooltip_text(tooltip: str) -> str:
    """What a tooltip shows, as plain text: the inverse of `plain_tooltip`, for messages that quote
    a widget's tooltip (e.g. the reason a button is disabled)."""
    if not GuiQt.mightBeRichText(tooltip):
        return tooltip
    return QTextDocumentFragment.fromHtml(tooltip).toPlainText()


def plain_message_box(parent: QWidget | None, title: str, text: str,
                      icon: QMessageBox.Icon = QMessageBox.Icon.NoIcon,
                      buttons: Button = Button.Ok, default: Button = Button.NoButton) -> QMessageBox:
    """A message box whose text and informative text are plain (QMessageBox's static helpers such
    as `question` leave the format on auto)."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # also applies to the informative text
    if default != Button.NoButton:
        box.setDefaultButton(default)
    return box


def ask_yes_no(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask a yes/no question in plain text; No is the default. True when the user says yes."""
    box = plain_message_box(parent, title, text, QMessageBox.Icon.Question, Button.Yes | Button.No, Button.No)
    box.setObjectName("questionDialog")
    return exec_box(box) == Button.Yes


def exec_box(box: QMessageBox) -> int:
    """Run a modal box; the one place tests replace so that they never block on a dialog."""
    return box.exec()
