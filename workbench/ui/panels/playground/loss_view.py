"""A read-only text whose tokens are coloured by the model's loss (surprise, -log p), with a legend.

The colour scale runs from 0 nats (the model was sure) to ln(vocabulary size) (as surprised as a
uniform guess over the vocabulary), green through yellow to red; losses above it stay red. Tokens
the model does not predict (a causal model's first token) have no colour. Built with
`QTextCursor.insertText` and char formats, never HTML: a token such as "<b>" shows as typed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QLinearGradient,
    QPainter,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QToolTip, QWidget

from workbench.ui.theme import is_dark
from workbench.ui.widgets.plain_text import plain_tooltip

_STOPS = {False: ("#c8ecc9", "#fff1a6", "#f7a8a8"), True: ("#1f5230", "#5f5418", "#7a2632")}
NEWLINE_MARK = "⏎"
BAR_WIDTH = 140  # pixels of the legend's colour bar


def loss_color(loss: float, scale: float, dark: bool) -> QColor | None:
    """The background for `loss` on a 0..`scale` scale (None for NaN: not predicted)."""
    if not math.isfinite(loss):
        return None
    t = max(0.0, min(1.0, loss / scale if scale > 0 else 0.0))
    low, mid, high = (QColor(c) for c in _STOPS[dark])
    a, b, u = (low, mid, t * 2) if t <= 0.5 else (mid, high, t * 2 - 1)
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * u, a.greenF() + (b.greenF() - a.greenF()) * u,
                           a.blueF() + (b.blueF() - a.blueF()) * u)


class LossTokenView(QPlainTextEdit):
    """Tokens on backgrounds by loss; `tooltip_at(index)` is what hovering a token shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.viewport().setMouseTracking(True)
        self.texts: list[str] = []
        self.losses: list[float] = []
        self.scale = 1.0
        self._starts: list[int] = []

    def set_tokens(self, texts: Sequence[str], losses: Sequence[float], scale: float) -> None:
        self.texts, self.losses, self.scale = list(texts), [float(x) for x in losses], scale
        self._render()

    def clear_tokens(self) -> None:
        self.texts, self.losses, self._starts = [], [], []
        self.setPlainText("")

    def _render(self) -> None:
        self.setPlainText("")
        dark = is_dark(self.palette())
        text_color = self.palette().color(QPalette.ColorRole.Text)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        starts = []
        for text, loss in zip(self.texts, self.losses, strict=True):
            fmt = QTextCharFormat()
            fmt.setForeground(text_color)
            color = loss_color(loss, self.scale, dark)
            if color is not None:
                fmt.setBackground(color)
            starts.append(cursor.position())
            cursor.insertText(text or "∅", fmt)
            if text.endswith(NEWLINE_MARK):
                cursor.insertText("\n", QTextCharFormat())
        cursor.endEditBlock()
        self._starts = starts
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def token_index_at_position(self, position: int) -> int | None:
        index = bisect.bisect_right(self._starts, position) - 1
        return index if 0 <= index < len(self.texts) else None

    def tooltip_at(self, index: int) -> str:
        loss, text = self.losses[index], self.texts[index] or "∅"
        if not math.isfinite(loss):
            return f"Token {index + 1:,}: {text}\nnot predicted (the model needs a token before it)"
        return f"Token {index + 1:,}: {text}\nloss {loss:.2f} nats, probability {math.exp(-loss):.1%}"

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.token_index_at_position(self.cursorForPosition(event.pos()).position())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), plain_tooltip(self.tooltip_at(index)), self.viewport())
            return True
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.texts:
            self._render()  # the backgrounds follow light and dark


class LossLegend(QWidget):
    """The colour scale: a gradient bar from 0 nats to the scale's end, labelled at both ends."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("surpriseLegend")
        self.scale = math.log(2)
        self.setMinimumHeight(self.fontMetrics().height() + 4)
        self._fit()

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self._fit()
        self.update()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        self.setMinimumWidth(sum(metrics.horizontalAdvance(t) for t in self.labels()) + BAR_WIDTH + 16)

    def labels(self) -> tuple[str, str]:
        return "0 nats: sure", f"{self.scale:.1f} nats: a uniform guess"

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        dark = is_dark(self.palette())
        metrics = self.fontMetrics()
        left, right = self.labels()
        bar = QRect(metrics.horizontalAdvance(left) + 8, 2,
                    max(BAR_WIDTH, self.width() - metrics.horizontalAdvance(left) - metrics.horizontalAdvance(right) - 16),
                    self.height() - 4)
        gradient = QLinearGradient(QPoint(bar.left(), 0), QPoint(bar.right(), 0))
        for i, color in enumerate(_STOPS[dark]):
            gradient.setColorAt(i / 2, QColor(color))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        flags = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(0, 0, bar.left() - 4, self.height()), flags | Qt.AlignmentFlag.AlignRight, left)
        painter.drawText(QRect(bar.right() + 6, 0, self.width(), self.height()), flags, right)
        painter.end()
