"""Colours for generated tokens by probability or by surprise (-log2 p), and their legend.

Backgrounds only: the text keeps the palette's text colour, so each scale is made of colours light
enough under dark text (light scheme) or dark enough under light text (dark scheme). Probability
runs red (unlikely) through yellow to green (likely); surprise runs from the plain background
(expected) to orange and red (surprising), capped at `SURPRISE_CAP` bits.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.ui.theme import is_dark

PROBABILITY = "probability"
SURPRISE = "surprise"
SURPRISE_CAP = 8.0  # bits: a token the model gave under 1/256 is as surprising as it gets on the scale

_PROBABILITY_STOPS = {False: ("#f4a3a3", "#fbe38e", "#a8dca8"), True: ("#7a2630", "#6b5a14", "#1f5c33")}
_SURPRISE_STOPS = {False: ("#f3f3f3", "#ffcc80", "#ef8a8a"), True: ("#303034", "#7a4a12", "#8a2a33")}


def surprise_bits(prob: float) -> float:
    return -math.log2(max(prob, 1e-45))


def _blend(stops: tuple[str, str, str], x: float) -> QColor:
    """A colour at `x` in 0..1 along three stops (interpolated in RGB)."""
    x = min(max(x, 0.0), 1.0)
    low, high = (stops[0], stops[1]) if x < 0.5 else (stops[1], stops[2])
    t = x * 2 if x < 0.5 else (x - 0.5) * 2
    a, b = QColor(low), QColor(high)
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def token_color(prob: float, mode: str, dark: bool) -> QColor:
    """The background of a token the model gave probability `prob`."""
    if mode == SURPRISE:
        return _blend(_SURPRISE_STOPS[dark], surprise_bits(prob) / SURPRISE_CAP)
    return _blend(_PROBABILITY_STOPS[dark], prob)


def legend_ends(mode: str) -> tuple[str, str]:
    if mode == SURPRISE:
        return "expected (0 bits)", f"surprising ({SURPRISE_CAP:g}+ bits)"
    return "unlikely (p 0)", "likely (p 1)"


class ColorLegend(QWidget):
    """A gradient bar with its two ends named; objectName `probabilityLegend`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityLegend")
        self.mode = PROBABILITY
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._update_tip()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._update_tip()
        self.update()

    def _update_tip(self) -> None:
        low, high = legend_ends(self.mode)
        self.setToolTip(f"Token background: {low} to {high}")

    def sizeHint(self) -> QSize:
        return QSize(320, self.fontMetrics().height() + 6)

    def paintEvent(self, event) -> None:  # noqa: ANN001 (Qt's signature)
        painter = QPainter(self)
        dark = is_dark(self.palette())
        low, high = legend_ends(self.mode)
        metrics = self.fontMetrics()
        left_w, right_w = metrics.horizontalAdvance(low) + 6, metrics.horizontalAdvance(high) + 6
        bar = QRectF(left_w, 3, max(self.width() - left_w - right_w, 20), self.height() - 6)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(11):
            x = i / 10
            prob = 2 ** (-x * SURPRISE_CAP) if self.mode == SURPRISE else x
            gradient.setColorAt(x, token_color(prob, self.mode, dark))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawRect(bar)
        flags = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(0, 0, left_w - 4, self.height()), flags | Qt.AlignmentFlag.AlignRight, low)
        painter.drawText(QRectF(bar.right() + 4, 0, right_w, self.height()), flags | Qt.AlignmentFlag.AlignLeft, high)
        painter.end()
