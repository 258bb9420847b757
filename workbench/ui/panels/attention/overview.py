"""The panel's whole-model views: the All heads grid and the Scores tab, and how they talk.

Kept out of `panel.py` so the panel stays a list of widgets: this object fills the two tab pages,
shrinks the maps for the grid only while the grid is on screen (a 1024-token text's 144 maps are
600 MB as float32; the grid reads them a layer at a time when first shown), and passes the scores
from the Scores tab to the grid, whose frames can be coloured by them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from workbench.core.attention.scores import HeadScores
from workbench.ui.panels.attention.grid import GridView
from workbench.ui.panels.attention.scores_view import HeadScoresView
from workbench.ui.widgets.forms import set_available


class HeadOverview(QObject):
    """`openHead(layer, head)` when a head is clicked in the grid or the scores; `computeRequested`
    when the Scores tab asks for scores."""

    openHead = Signal(int, int)
    computeRequested = Signal()

    def __init__(self, tabs: QTabWidget, grid_page: QWidget, scores_page: QWidget) -> None:
        super().__init__(tabs)
        self.tabs, self.grid_page = tabs, grid_page
        self.grid_view = GridView()
        self.scores_view = HeadScoresView()
        grid_page.layout().addWidget(self.grid_view)
        scores_page.layout().addWidget(self.scores_view)
        self._weights = np.zeros((0, 0, 0, 0), dtype=np.float16)
        self._grid_stale = False
        self.grid_view.grid.headClicked.connect(self.openHead)
        self.scores_view.headClicked.connect(self.openHead)
        self.scores_view.computeRequested.connect(self.computeRequested)
        tabs.currentChanged.connect(self._tab_changed)

    def set_weights(self, weights: np.ndarray) -> None:
        """The [layers, heads, T, T] maps of the text shown (drawn in the grid when it is shown)."""
        self._weights = weights
        self._grid_stale = True
        self._tab_changed()

    def update_grid(self) -> None:
        """Draw the grid now (it is drawn by itself when its tab is chosen)."""
        if self._grid_stale:
            self._grid_stale = False
            self.grid_view.set_weights(self._weights)

    def show_scores(self, scores: HeadScores) -> None:
        self.scores_view.show_scores(scores)
        self.grid_view.set_head_scores(scores)

    def clear_scores(self, reason: str = "") -> None:
        self.scores_view.clear(reason)
        self.grid_view.set_head_scores(None)

    def set_available(self, available: bool, reason: str) -> None:
        set_available(self.scores_view.compute_button, available, reason,
                      "Run the chosen checkpoint on repeated random tokens (induction) and on the typed text")

    def _tab_changed(self, *_args) -> None:
        if self.tabs.currentWidget() is self.grid_page:
            self.update_grid()
