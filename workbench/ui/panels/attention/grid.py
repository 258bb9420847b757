"""The All heads tab (bertviz's "model view"): every layer x head map as a thumbnail.

Drawn as ONE image: each map is shrunk to at most `TILE` pixels a side by block means, scaled to
its own range (a thumbnail shows a head's pattern, not its absolute weights), coloured through the
colour map in numpy and placed in a mosaic with a gap between tiles. The gap around a tile is
coloured by a head score when one is chosen, and heads can be sorted by it within each layer.
A 12 x 12 grid of 256-token maps draws in a few tens of milliseconds (bench/bench_attention_view.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from workbench.core.attention.scores import (
    SCORE_NAMES,
    SCORE_TITLES,
    HeadScores,
    first_token_score,
    normalised_entropy,
    previous_token_score,
)
from workbench.ui.theme import plot_colors
from workbench.ui.widgets.forms import plain_label
from workbench.ui.widgets.themed_plot import FollowsPalette, color_axes

TILE = 48  # thumbnail side in image pixels
GAP = 4  # pixels between tiles; the frame that shows a head's score colour


def shrink(weights: np.ndarray, side: int = TILE) -> np.ndarray:
    """[..., T, T] -> [..., s, s] with s <= side: block means (zero-padded to whole blocks)."""
    if np.ndim(weights) > 3:  # a layer at a time: float32 copies of all maps at once can be 600 MB
        return np.stack([shrink(layer, side) for layer in weights])
    w = np.asarray(weights, dtype=np.float32)
    size = w.shape[-1]
    block = max(1, -(-size // side))
    s = -(-size // block)
    if block == 1:
        return w
    padded = np.zeros((*w.shape[:-2], s * block, s * block), dtype=np.float32)
    padded[..., :size, :size] = w
    return padded.reshape(*w.shape[:-2], s, block, s, block).mean(axis=(-3, -1))


def mosaic(thumbs: np.ndarray, order: np.ndarray, frame: np.ndarray | None, lut: np.ndarray,
           background: tuple[int, int, int]) -> np.ndarray:
    """RGB [rows * (s + gap), cols * (s + gap), 3] of thumbs [L, H, s, s] (each scaled to its own
    top); tile (l, c) shows head order[l, c]; frame [L, H, 3] colours each head's border."""
    layers, heads, s, _ = thumbs.shape
    step = s + GAP
    out = np.empty((layers * step, heads * step, 3), dtype=np.uint8)
    out[:] = background
    top = np.quantile(thumbs.reshape(layers, heads, -1), 0.99, axis=-1)[..., None, None]
    index = (np.clip(thumbs / np.maximum(top, 1e-9), 0, 1) * (len(lut) - 1)).astype(np.intp)
    colored = lut[index]  # [L, H, s, s, 3]
    half = GAP // 2
    for layer in range(layers):
        for col in range(heads):
            head = order[layer, col]
            y, x = layer * step + half, col * step + half
            if frame is not None:
                out[y - half:y + s + half, x - half:x + s + half] = frame[layer, head]
            out[y:y + s, x:x + s] = colored[layer, head]
    return out


class HeadGrid(FollowsPalette, pg.GraphicsLayoutWidget):
    """objectName `attentionGrid`. `headClicked(layer, head)` when a thumbnail is clicked."""

    headClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attentionGrid")
        self.setMinimumSize(220, 200)
        self.plot = self.addPlot(row=0, col=0)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "layer")
        self.plot.setLabel("bottom", "head")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.readout = pg.LabelItem(justify="left")
        self.addItem(self.readout, row=1, col=0)
        self._lut = pg.colormap.get("viridis").getLookupTable(nPts=256, mode="byte")[:, :3]
        self._score_lut = pg.colormap.get("CET-L3").getLookupTable(nPts=256, mode="byte")[:, :3]
        self.thumbs = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self.order = np.zeros((0, 0), dtype=np.intp)  # order[layer, column] = head shown there
        self.score: np.ndarray | None = None
        self.score_name = ""
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.plot.scene().sigMouseMoved.connect(self._on_move)
        self._ready = True
        self._restyle()

    def set_weights(self, weights: np.ndarray) -> None:
        """[layers, heads, T, T]: shrink every map once; scores and order are drawn from these."""
        self.thumbs = shrink(weights)
        self._redraw()

    def set_score(self, score: np.ndarray | None, name: str = "", sort: bool = False) -> None:
        """Colour each head's frame by `score` [layers, heads] (None: no frame); `sort` orders the
        heads of each layer by it, highest first."""
        self.score, self.score_name = (None, "") if score is None else (np.asarray(score, dtype=np.float32), name)
        self._sort = sort and self.score is not None
        self._redraw()

    _sort = False

    def _redraw(self) -> None:
        if not self.thumbs.size:
            self.image.clear()
            return
        layers, heads = self.thumbs.shape[:2]
        base = np.tile(np.arange(heads), (layers, 1))
        self.order = np.argsort(-self.score, axis=1, kind="stable") if self._sort and self.score is not None \
            and self.score.shape == (layers, heads) else base
        frame = None
        if self.score is not None and self.score.shape == (layers, heads):
            low, high = float(self.score.min()), float(self.score.max())
            scaled = (self.score - low) / (high - low) if high > low else np.zeros_like(self.score)
            frame = self._score_lut[(scaled * 255).astype(np.intp)]
        background = plot_colors(self.palette())[0]
        rgb = mosaic(self.thumbs, self.order, frame, self._lut, (background.red(), background.green(),
                                                                 background.blue()))
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        self.image.setRect(0, 0, heads, layers)  # one view unit per tile
        self.plot.getAxis("left").setTicks([[(layer + 0.5, str(layer)) for layer in range(layers)]])
        label = "head rank by " + self.score_name if self._sort else "head"
        self.plot.setLabel("bottom", label)
        self.plot.getAxis("bottom").setTicks([[(h + 0.5, str(h)) for h in range(heads)]])
        self.plot.autoRange(padding=0)

    def tile_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(layer, head) of the thumbnail under scene position `pos`."""
        if not self.thumbs.size or not self.plot.vb.sceneBoundingRect().contains(pos):
            return None
        point = self.plot.vb.mapSceneToView(pos)
        layer, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= layer < self.order.shape[0] and 0 <= col < self.order.shape[1]:
            return layer, int(self.order[layer, col])
        return None

    def _on_click(self, event) -> None:
        tile = self.tile_at(event.scenePos())
        if tile is not None:
            self.headClicked.emit(*tile)

    def _on_move(self, pos: QPointF) -> None:
        tile = self.tile_at(pos)
        if tile is None:
            return
        layer, head = tile
        text = f"layer {layer}, head {head}"
        if self.score is not None and self.score.shape[:2] == self.order.shape:
            text += f": {self.score_name} {self.score[layer, head]:.3f}"
        self._set_readout(text + " (click to open it in the map)")

    def _set_readout(self, text: str) -> None:
        self.readout.setText(text.replace("&", "&amp;").replace("<", "&lt;"),
                             color=plot_colors(self.palette())[1].name())

    def readout_text(self) -> str:
        return self.readout.text

    def _restyle(self) -> None:
        background, foreground = plot_colors(self.palette())
        self.setBackground(background)
        color_axes((self.plot.getAxis("left"), self.plot.getAxis("bottom")), foreground)
        self._set_readout("Click a head to open it in the map.")
        self._redraw()


class GridView(QWidget):
    """The All heads tab: the grid and how its heads are coloured and ordered. Previous-token,
    first-token and entropy come from the maps shown; induction needs the Scores tab's run on
    repeated random tokens (`set_head_scores`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = HeadGrid()
        self.score_combo = QComboBox()
        self.score_combo.setObjectName("attentionGridScore")
        self.score_combo.addItem("No score", "")
        for name in SCORE_NAMES:
            self.score_combo.addItem(SCORE_TITLES[name], name)
        self.sort = QCheckBox("Sort heads by it")
        self.sort.setObjectName("attentionGridSort")
        self.hint = plain_label("", wrap=False)
        controls = QHBoxLayout()
        controls.addWidget(plain_label("Frame colour", wrap=False))
        controls.addWidget(self.score_combo)
        controls.addWidget(self.sort)
        controls.addWidget(self.hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.grid, 1)
        self._weights = np.zeros((0, 0, 0, 0), dtype=np.float32)
        self._causal = True
        self._scores: HeadScores | None = None
        self.score_combo.currentIndexChanged.connect(self._apply_score)
        self.sort.toggled.connect(self._apply_score)

    def set_weights(self, weights: np.ndarray, causal: bool = True) -> None:
        self._weights, self._causal = weights, causal
        self.grid.set_weights(weights)
        self._apply_score()

    def set_head_scores(self, scores: HeadScores | None) -> None:
        self._scores = scores
        self._apply_score()

    def _apply_score(self) -> None:
        name = self.score_combo.currentData() or ""
        score, self_hint = None, ""
        if name == "induction":
            if self._scores is not None and self._scores.induction.shape == self._weights.shape[:2]:
                score = self._scores.induction
            else:
                self_hint = "Compute the scores in the Scores tab first: induction needs repeated random tokens."
        elif name and self._weights.size:
            w = self._weights
            score = {"previous_token": previous_token_score, "first_token": first_token_score}[name](w) \
                if name != "entropy" else normalised_entropy(w, self._causal)
        self.hint.setText(self_hint)
        self.grid.set_score(score, SCORE_TITLES.get(name, "").lower(), self.sort.isChecked())
