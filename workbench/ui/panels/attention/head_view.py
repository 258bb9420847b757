"""The head view (as bertviz draws it): the text twice, queries on the left and keys on the right,
a line from each token to each token it attends to, the weight as the line's opacity, one colour
per head; several heads overlay.

objectName `attentionHeadView`; one checkable button per head (`headViewHead<N>`) chooses which
heads are drawn. Hovering a token on the left shows only its lines (what it attends to), on the
right only the lines into it (who attends to it). Tokens from `marked_from` on (the generated
part of a playground text) are drawn in the marking colour.

Speed: pairs below `MIN_WEIGHT` get no line, and each paint draws only the lines that cross the
exposed strip, grouped in opacity buckets (one pen per bucket and head: `drawLines` of a list),
so a 1024-token text scrolls without redrawing a million lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QToolButton, QVBoxLayout, QWidget

from workbench.core.attention.lines import MARK_COLOUR, head_colour, line_segments
from workbench.ui.widgets.forms import plain_label

BUCKETS = 12  # opacity levels: one pen each
GAP = 140  # pixels between the two columns of tokens


class HeadLines(QWidget):
    """The two columns and the lines; sized to its rows (it lives in a scroll area)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headViewLines")
        self.setMouseTracking(True)
        self._maps = np.zeros((0, 0, 0), dtype=np.float16)  # [heads, T, T] of one layer
        self._heads: list[int] = []
        self._tokens: list[str] = []
        self.marked_from: int | None = None
        self.hovered: tuple[str, int] | None = None  # ("query" | "key", token)
        self._segments: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def set_maps(self, maps: np.ndarray, heads: Sequence[int], tokens: Sequence[str]) -> None:
        self._maps, self._heads, self._tokens = maps, list(heads), list(tokens)
        self._segments = None  # computed at the next paint: nothing to do while the tab is hidden
        self.hovered = None
        self.updateGeometry()
        self.adjustSize()
        self.update()

    def row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 4

    def column_width(self) -> int:
        metrics = QFontMetrics(self.font())
        widest = max((metrics.horizontalAdvance(t) for t in self._tokens[:2048]), default=40)
        return min(max(widest + 12, 60), 220)

    def sizeHint(self) -> QSize:
        return QSize(2 * self.column_width() + GAP, max(1, len(self._tokens)) * self.row_height() + 8)

    def segments(self) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """head -> (queries, keys, weights) of the pairs worth a line."""
        if self._segments is None:
            self._segments = {head: line_segments(self._maps[i].astype(np.float32))
                              for i, head in enumerate(self._heads)}
        return self._segments

    def token_at(self, pos: QPointF) -> tuple[str, int] | None:
        row = int((pos.y() - 4) // self.row_height())
        if not 0 <= row < len(self._tokens):
            return None
        left_edge = self.column_width()
        if pos.x() <= left_edge:
            return "query", row
        if pos.x() >= left_edge + GAP:
            return "key", row
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        found = self.token_at(event.position())
        if found != self.hovered:
            self.hovered = found
            self.update()

    def leaveEvent(self, event) -> None:  # noqa: ANN001 - QEvent
        self.hovered = None
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect, row, column = event.rect(), self.row_height(), self.column_width()
        first = max(0, (rect.top() - 4) // row - 1)
        last = min(len(self._tokens), (rect.bottom() - 4) // row + 2)
        self._paint_lines(painter, rect, row, column)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        mark = QColor(MARK_COLOUR)
        for i in range(first, last):
            top = 4 + i * row
            painter.setPen(mark if self.marked_from is not None and i >= self.marked_from else text)
            label = self._tokens[i]
            if self.hovered is not None and self.hovered[1] == i:
                font = painter.font()
                font.setBold(True)
                painter.setFont(font)
            painter.drawText(QRect(0, top, column - 8, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             label)
            painter.drawText(QRect(column + GAP + 8, top, column, row),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
            if self.hovered is not None and self.hovered[1] == i:
                font = painter.font()
                font.setBold(False)
                painter.setFont(font)

    def _paint_lines(self, painter: QPainter, rect: QRect, row: int, column: int) -> None:
        x0, x1 = float(column - 2), float(column + GAP + 2)
        for head, (queries, keys, weights) in self.segments().items():
            keep = self._visible(queries, keys, rect, row)
            if self.hovered is not None:
                side, token = self.hovered
                keep &= (queries if side == "query" else keys) == token
            q, k, w = queries[keep], keys[keep], weights[keep]
            if not q.size:
                continue
            y_q, y_k = 4 + (q + 0.5) * row, 4 + (k + 0.5) * row
            buckets = np.minimum((w * BUCKETS).astype(int), BUCKETS - 1)
            colour = QColor(head_colour(head))
            for bucket in np.unique(buckets):
                chosen = buckets == bucket
                colour.setAlphaF(float(min(1.0, (bucket + 1) / BUCKETS)))
                painter.setPen(QPen(colour, 1.6))
                painter.drawLines([QLineF(x0, a, x1, b) for a, b in zip(y_q[chosen].tolist(), y_k[chosen].tolist(),
                                                                        strict=True)])

    @staticmethod
    def _visible(queries: np.ndarray, keys: np.ndarray, rect: QRect, row: int) -> np.ndarray:
        """Lines that cross the exposed strip (between their two ends' rows)."""
        top, bottom = (rect.top() - 4) / row - 1, (rect.bottom() - 4) / row + 1
        return (np.minimum(queries, keys) <= bottom) & (np.maximum(queries, keys) >= top)


class HeadView(QWidget):
    """objectName `attentionHeadView`: head buttons above, the lines below (scrolling)."""

    headsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionHeadView")
        self._weights = np.zeros((0, 0, 0, 0), dtype=np.float16)
        self._tokens: list[str] = []
        self._layer = 0
        self.buttons: list[QToolButton] = []
        self.lines = HeadLines()
        self.caption = plain_label("Line opacity is the attention weight. Hover a token to see only its lines.")
        self.caption.setObjectName("headViewCaption")
        self._button_row = QHBoxLayout()
        self._button_row.setSpacing(2)
        self._button_row.addWidget(plain_label("Heads", wrap=False))
        self._button_row.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.lines)
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._button_row)
        layout.addWidget(self.caption)
        layout.addWidget(self.scroll, 1)

    # ---- inputs --------------------------------------------------------------------------------

    def set_attention(self, weights: np.ndarray, tokens: Sequence[str], layer: int,
                      marked_from: int | None = None) -> None:
        """Show layer `layer` of a [layers, heads, T, T] map; the chosen heads stay chosen."""
        self._weights, self._tokens, self._layer = weights, list(tokens), layer
        self.lines.marked_from = marked_from
        heads = int(weights.shape[1]) if weights.ndim == 4 else 0
        if heads != len(self.buttons):
            self._make_buttons(heads)
        self._redraw()

    def set_layer(self, layer: int) -> None:
        if layer != self._layer:
            self._layer = layer
            self._redraw()

    def selected_heads(self) -> list[int]:
        return [i for i, button in enumerate(self.buttons) if button.isChecked()]

    def set_heads(self, heads: Sequence[int]) -> None:
        for i, button in enumerate(self.buttons):
            button.blockSignals(True)
            button.setChecked(i in heads)
            button.blockSignals(False)
        self._redraw()

    def layer(self) -> int:
        return self._layer

    # ---- drawing -------------------------------------------------------------------------------

    def _make_buttons(self, heads: int) -> None:
        for button in self.buttons:
            self._button_row.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        for head in range(heads):
            button = QToolButton()
            button.setObjectName(f"headViewHead{head}")
            button.setText(str(head))
            button.setCheckable(True)
            button.setChecked(head == 0)  # one head first: several overlaid are busy to read
            button.setToolTip(f"Draw the lines of head {head}")
            colour = head_colour(head)
            button.setStyleSheet(f"QToolButton {{ border: 2px solid {colour}; border-radius: 3px; padding: 1px 5px; }}"
                                 f"QToolButton:checked {{ background: {colour}; color: white; }}")
            button.toggled.connect(self._redraw)
            self._button_row.insertWidget(self._button_row.count() - 1, button)
            self.buttons.append(button)

    def _redraw(self) -> None:
        heads = self.selected_heads()
        if self._weights.ndim != 4 or not self._weights.size:
            self.lines.set_maps(np.zeros((0, 0, 0), dtype=np.float16), [], [])
            return
        layer = min(self._layer, self._weights.shape[0] - 1)
        self.lines.set_maps(self._weights[layer, heads], heads, self._tokens)
        self.headsChanged.emit()
