"""A scroll area for a panel's body, so a dock can be smaller than the body's minimum size.

The window must fit a 1366x768 laptop screen with every dock shown: each dock then gets less room
than its content would like. Inside a frameless, resizable scroll area the body fills the dock
when there is room and scrolls when there is not, instead of forcing the whole window to grow.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def scroll_area(body: QWidget, *, horizontal: bool = True) -> QScrollArea:
    """`body` in a frameless scroll area that resizes it; `horizontal=False` never scrolls sideways
    (the body must then wrap or shrink to any width, as a column of cards does)."""
    scroll = QScrollArea()
    scroll.setWidget(body)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    if not horizontal:
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll


class FitBody(QWidget):
    """A body for `scroll_area` that scrolls only when its minimum height does not fit.

    A word-wrapped label (a notice with text) gives the body's layout a height-for-width, and
    QScrollArea then takes the body's *preferred* height for the width as its minimum: the panel
    scrolled on a laptop screen although everything fitted, and the map or score table it holds
    was cut at the bottom. The minimum keeps the body from being squeezed below what it can show;
    in between, the layout shrinks what stretches (the map) rather than scrolling.
    """

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.totalMinimumSize().height() if layout is not None else super().heightForWidth(width)
