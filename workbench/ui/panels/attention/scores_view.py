"""The Scores tab: head scores as a layers x heads heatmap, and the induction heads named.

The scores are computed by a job (the model runs on repeated random tokens, `core/attention/
head_scores.py`); the tab asks for them with `computeRequested` and shows them in `show_scores`.
Each cell carries its value; a click opens that head in the map (`headClicked`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from workbench.core.attention.scores import INDUCTION_THRESHOLD, SCORE_NAMES, SCORE_TITLES, HeadScores
from workbench.ui.widgets.forms import plain_label
from workbench.ui.widgets.themed_plot import ThemedPlot

MAX_CELL_TEXTS = 400  # values written in the cells up to 20 x 20 heads; beyond, the readout says them


class ScoreMap(ThemedPlot):
    """The [layers, heads] image of one score, value in each cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("head", "layer", parent, grid_x=False)
        item = self.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.values = np.zeros((0, 0), dtype=np.float32)
        self.marked: list[tuple[int, int]] = []
        self._texts: list[pg.TextItem] = []
        self._boxes: list[pg.QtWidgets.QGraphicsRectItem] = []
        self._foreground = QColor("black")
        self.theme_ready()

    def set_values(self, values: np.ndarray, levels: tuple[float, float], marked: list[tuple[int, int]]) -> None:
        self.values = np.asarray(values, dtype=np.float32)
        self.marked = marked
        layers, heads = self.values.shape
        self.image.setImage(self.values, levels=levels, autoLevels=False)
        self.image.setRect(0, 0, heads, layers)
        for item in self._texts + self._boxes:
            self.removeItem(item)
        self._texts, self._boxes = [], []
        if self.values.size <= MAX_CELL_TEXTS:
            middle = (levels[0] + levels[1]) / 2
            for (layer, head), value in np.ndenumerate(self.values):
                text = pg.TextItem(f"{value:.2f}", anchor=(0.5, 0.5),
                                   color="black" if value > middle else "white")
                text.setPos(head + 0.5, layer + 0.5)
                self.addItem(text)
                self._texts.append(text)
        for layer, head in marked:  # the heads the summary names, outlined
            box = pg.QtWidgets.QGraphicsRectItem(head + 0.04, layer + 0.04, 0.92, 0.92)
            box.setPen(pg.mkPen("#ff4d4d", width=3, cosmetic=True))
            self.addItem(box)
            self._boxes.append(box)
        item = self.getPlotItem()
        item.getAxis("left").setTicks([[(i + 0.5, str(i)) for i in range(layers)]])
        item.getAxis("bottom").setTicks([[(i + 0.5, str(i)) for i in range(heads)]])
        item.setRange(xRange=(0, heads), yRange=(0, layers), padding=0)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        vb = self.getPlotItem().vb
        if not self.values.size or not vb.sceneBoundingRect().contains(pos):
            return None
        point = vb.mapSceneToView(pos)
        layer, head = int(np.floor(point.y())), int(np.floor(point.x()))
        inside = 0 <= layer < self.values.shape[0] and 0 <= head < self.values.shape[1]
        return (layer, head) if inside else None


class HeadScoresView(QWidget):
    """objectName `headScores`. `computeRequested()` asks for the scores of the chosen run and
    checkpoint; `headClicked(layer, head)` opens a head in the map."""

    computeRequested = Signal()
    headClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headScores")
        self.scores: HeadScores | None = None
        self.score_combo = QComboBox()
        self.score_combo.setObjectName("headScoreCombo")
        for name in SCORE_NAMES:
            self.score_combo.addItem(SCORE_TITLES[name], name)
        self.compute_button = QPushButton("Compute head scores")
        self.compute_button.setObjectName("headScoresButton")
        self.compute_button.setToolTip("Run the chosen checkpoint on repeated random tokens (induction) and "
                                       "on the typed text (the other scores, and induction where it repeats "
                                       "itself, as a copy-task line does). With no text typed, the run's own "
                                       "text is used, the one its saved snapshots show.")
        self.summary = plain_label("Compute the scores to see what each head does: induction heads copy "
                                   "what followed an earlier occurrence of the current token.")
        self.summary.setObjectName("headScoresSummary")
        self.map = ScoreMap()
        self.readout = plain_label("", wrap=False)
        controls = QHBoxLayout()
        controls.addWidget(self.compute_button)
        controls.addWidget(plain_label("Show", wrap=False))
        controls.addWidget(self.score_combo)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.readout)
        self.compute_button.clicked.connect(self.computeRequested)
        self.score_combo.currentIndexChanged.connect(self._draw)
        self.map.scene().sigMouseClicked.connect(self._on_click)
        self.map.scene().sigMouseMoved.connect(self._on_move)

    def show_scores(self, scores: HeadScores) -> None:
        self.scores = scores
        heads = scores.induction_heads()
        if heads:
            named = ", ".join(f"layer {layer} head {head} ({value:.2f})" for layer, head, value in heads[:6])
            text = f"Induction heads: {named}. They are outlined in red; click one to open it in the map."
        else:
            text = (f"No induction head yet (the strongest scores {scores.induction.max():.2f}; a head counts "
                    f"from {INDUCTION_THRESHOLD:.2f}). On the copy task they appear once the loss drops "
                    "in a step; type a line of it (words, ' | ', a run of them again) to score them where "
                    "the model copies.")
        source = f"the typed text ({scores.text_tokens} tokens)" if scores.text_tokens else "random tokens"
        notes = " ".join(note[:1].upper() + note[1:].rstrip(".") + "." for note in scores.notes)  # as sentences
        self.summary.setText(f"{text} Induction {scores.induction_source()}; the other scores "
                             f"on {source}. {notes}".rstrip())
        self._draw()

    def clear(self, reason: str = "") -> None:
        self.scores = None
        self.map.set_values(np.zeros((0, 0), dtype=np.float32), (0.0, 1.0), [])
        if reason:
            self.summary.setText(reason)

    def _draw(self) -> None:
        if self.scores is None:
            return
        name = self.score_combo.currentData()
        values = self.scores.score(name)
        marked = [(layer, head) for layer, head, _ in self.scores.induction_heads()] if name == "induction" else []
        self.map.set_values(values, (0.0, 1.0), marked)  # every score lies in 0-1: colours compare

    def _on_click(self, event) -> None:
        cell = self.map.cell_at(event.scenePos())
        if cell is not None:
            self.headClicked.emit(*cell)

    def _on_move(self, pos: QPointF) -> None:
        cell = self.map.cell_at(pos)
        if cell is not None and self.scores is not None:
            layer, head = cell
            parts = ", ".join(f"{SCORE_TITLES[n].lower()} {self.scores.score(n)[layer, head]:.3f}" for n in SCORE_NAMES)
            if self.scores.text_induction is not None and self.scores.random_induction is not None:
                parts += (f" (induction on random tokens {self.scores.random_induction[layer, head]:.3f}, "
                          f"on the text {self.scores.text_induction[layer, head]:.3f})")
            self.readout.setText(f"Layer {layer} head {head}: {parts}")
