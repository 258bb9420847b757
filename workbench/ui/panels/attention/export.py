"""Export the attention view shown as a PNG or SVG file, drawn by the same matplotlib figures the
command line's `attention --png --view ...` draws (real fonts, the same look everywhere):
Map -> one head (or the mean of the heads), All heads -> the grid, Head view -> the lines of the
chosen heads, Scores -> the head scores the Scores tab shows (the model's, computed by its job; the
command line computes them with the same `head_scores`).

objectName `attentionExportButton`. The file name is asked with `choose_path` (tests replace it);
a file that cannot be written is said in the panel's notice, in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

MEAN = -1


@dataclass(frozen=True)
class ExportRequest:
    view: str  # "map" | "grid" | "lines" | "scores"
    weights: np.ndarray  # [layers, heads, T, T]
    tokens: tuple[str, ...]
    layer: int
    head: int  # MEAN for the mean of the heads
    heads: tuple[int, ...]  # the head view's chosen heads
    title: str
    marked_from: int | None = None
    scores: Any = None  # the Scores tab's `HeadScores`, None until computed


def figure_for(request: ExportRequest) -> Any:
    """The matplotlib figure of the view (matplotlib is imported here, when a file is asked for)."""
    from workbench.core.attention.figures import render_grid, render_head
    from workbench.core.attention.views import render_lines, render_scores

    weights, layer = request.weights, request.layer
    if request.view == "grid":
        return render_grid(weights, request.title, tokens=request.tokens)
    if request.view == "lines":
        heads = list(request.heads) or [0]
        return render_lines(weights[layer, heads], request.tokens, f"{request.title} · layer {layer}", heads,
                            request.marked_from)
    if request.view == "scores":
        return render_scores(request.scores, f"{request.title} · head scores")
    if request.head == MEAN:
        return render_head(weights[layer].mean(axis=0, dtype=np.float32), request.tokens,
                           f"{request.title} · layer {layer} · mean of heads")
    return render_head(weights[layer, request.head], request.tokens,
                       f"{request.title} · layer {layer} · head {request.head}")


def choose_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Export the view", suggested, "PNG image (*.png);;SVG drawing (*.svg)")
    return path


def panel_request(panel: Any) -> ExportRequest | None:
    """What the attention panel shows now, or None when it shows nothing."""
    weights, scores = panel._weights, panel.overview.scores_view.scores
    page = panel.tabs.currentWidget()
    view = {id(panel.grid_page): "grid", id(panel.head_view_page): "lines", id(panel.scores_page): "scores"}.get(
        id(page), "map")
    if (view == "scores" and scores is None) or (view != "scores" and not weights.size):
        return None
    head = panel.head.currentData()
    title = panel.used.text().removeprefix("Used ").rstrip(".") or "attention"
    return ExportRequest(view, weights, tuple(panel._tokens), int(panel.layer.value()),
                         MEAN if head is None else int(head), tuple(panel.head_view.selected_heads()), title,
                         panel.marked_from, scores)


class ExportButton(QPushButton):
    def __init__(self, panel: Any) -> None:
        super().__init__("Export…")
        self.setObjectName("attentionExportButton")
        self.setToolTip("Save the view shown as a PNG image or an SVG drawing")
        self._panel = panel
        self.clicked.connect(self.export)

    @Slot()
    def export(self) -> str:
        """Ask for a file and write the view there; the path written, or "" when nothing was."""
        from workbench.core.attention.figures import save_figure

        request = panel_request(self._panel)
        if request is None:
            scores_tab = self._panel.tabs.currentWidget() is self._panel.scores_page
            self._panel.notice.setText("Nothing to export yet: compute the head scores first." if scores_tab
                                       else "Nothing to export yet: show the attention of a text first.")
            return ""
        path = choose_path(self._panel, f"attention-{request.view}.png")
        if not path:
            return ""
        try:
            save_figure(figure_for(request), path)
        except OSError as exc:
            self._panel.notice.setText(f"Cannot write {path}: {exc.strerror or exc}. Choose another folder.")
            return ""
        self._panel.notice.setText(f"Exported the view to {path}.")
        return path
