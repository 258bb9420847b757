"""One side-by-side column (its run, checkpoint, text and shading) and where columns diverge.

A column keeps its continuation as text and where each token starts in its document, so it can be
shaded from the token that holds the first differing character (`side_by_side.py` decides where).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QComboBox, QFrame, QPlainTextEdit, QVBoxLayout, QWidget

from workbench.ui.widgets.forms import plain_label


def divergence(texts: Sequence[str], finished: Sequence[bool]) -> int | None:
    """The first character index where the texts disagree, or None while they agree so far."""
    if len(texts) < 2:
        return None
    n = len(os.path.commonprefix(list(texts)))
    longer = [t for t in texts if len(t) > n]
    if len(longer) >= 2 and len({t[n] for t in longer}) > 1:
        return n
    if longer and any(done and len(t) == n for t, done in zip(texts, finished, strict=True)):
        return n  # it ended where another went on
    return None


class Column(QFrame):
    """objectName `sideBySideColumnN` (N from 1), with its run, checkpoint, output and state."""

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"sideBySideColumn{index + 1}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.run = QComboBox()
        self.run.setObjectName(f"sideBySideRun{index + 1}")
        self.run.setToolTip(f"The run of column {index + 1}")
        self.checkpoint = QComboBox()
        self.checkpoint.setObjectName(f"sideBySideCheckpoint{index + 1}")
        self.checkpoint.setToolTip(f"The checkpoint of column {index + 1}: any kept step, or a paused run's live weights")
        for combo in (self.run, self.checkpoint):  # equal columns, whatever the names' lengths
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.output = QPlainTextEdit()
        self.output.setObjectName(f"sideBySideOutput{index + 1}")
        self.output.setReadOnly(True)
        self.output.setMinimumHeight(44)
        self.state = plain_label("")
        self.state.setObjectName(f"sideBySideState{index + 1}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.run)
        layout.addWidget(self.checkpoint)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.state)
        self.reset("")

    def reset(self, prompt: str) -> None:
        self.text = ""  # the continuation so far
        self.source: tuple[str, int] | None = None  # (run, step) once it loaded
        self.starts: list[tuple[int, int]] = []  # (index in text, document position) of each token with text
        self.tokens = 0
        self.finished = False
        self.failed = False
        self.shade_from: int | None = None  # document position
        self.output.clear()
        self.state.setText("")
        cursor = QTextCursor(self.output.document())
        cursor.insertText(prompt, QTextCharFormat())

    def append(self, piece: str, shade: QTextCharFormat) -> None:
        self.tokens += 1
        if not piece:
            return
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self.starts.append((len(self.text), cursor.position()))
        cursor.insertText(piece, shade if self.shade_from is not None else QTextCharFormat())
        self.text += piece

    def shade(self, at: int, fmt: QTextCharFormat) -> None:
        """Shade from the start of the token holding character `at` of the continuation."""
        starts = [doc for index, doc in self.starts if index <= at]
        if starts:
            self.shade_from = starts[-1]
            self.reshade(fmt)

    def reshade(self, fmt: QTextCharFormat) -> None:
        if self.shade_from is None:
            return
        cursor = QTextCursor(self.output.document())
        cursor.setPosition(self.shade_from)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(fmt)
