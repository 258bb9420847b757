"""The attention views as matplotlib figures, beyond the heatmaps of `figures.py`: the head view
(bertviz's lines) and a layers x heads score table. The window's Export and the command line's
`attention --png --view lines|scores` both draw through these, so a file looks the same wherever
it was made.

- `render_lines`: the text twice, queries on the left and keys on the right, a line from each
  token to each token it attends to with the weight as opacity, one colour per head (several heads
  overlay, as bertviz draws them). Weights under `MIN_WEIGHT` are left out: they would be invisible
  and a 256-token text has 65k pairs per head. Texts longer than `LINES_MAX_TOKENS` keep their last
  tokens (`lines_window` says which), since a column of more labels does not fit a page.
- `render_scores`: one small heatmap per score (previous-token, induction, ...), numbers in the cells
  when the table is small enough to read them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from workbench.core.attention.figures import _new_figure, _text_style, fit, prepare_fonts
from workbench.core.attention.lines import (
    HEAD_COLOURS,
    LINES_MAX_TOKENS,
    MARK_COLOUR,
    MIN_WEIGHT,
    head_colour,
    line_segments,
    lines_window,
)

__all__ = ["HEAD_COLOURS", "LINES_MAX_TOKENS", "MARK_COLOUR", "MIN_WEIGHT", "head_colour", "line_segments",
           "lines_window", "render_lines", "render_scores", "text_scores"]


def render_lines(weights: np.ndarray, tokens: Sequence[str], title: str, head_ids: Sequence[int],
                 marked_from: int | None = None) -> Figure:
    """`weights`: [heads, T, T] of one layer, the heads named by `head_ids`. Tokens from
    `marked_from` on (the generated part of a text) are drawn in `MARK_COLOUR`."""
    length = weights.shape[-1]
    first, notice = lines_window(length)
    weights = weights[:, first:, first:]
    shown = [fit(t, 16) for t in tokens[first:]]
    prepare_fonts([title, *shown])
    count = len(shown)
    row = 0.2 if count <= 64 else 0.13  # inches per token
    size = 9 if count <= 64 else 6
    height = max(3.0, count * row + 1.4)
    figure = _new_figure(6.0, height)
    axes = figure.add_axes((0.04, 0.6 / height, 0.92, 1 - 1.2 / height))
    axes.set_xlim(-0.05, 1.05)
    axes.set_ylim(count - 0.5, -0.5)
    axes.set_axis_off()
    left, right = 0.3, 0.7
    for head, matrix in zip(head_ids, weights, strict=True):
        q, k, w = line_segments(matrix)
        if not q.size:
            continue
        segments = np.stack([np.stack([np.full(q.size, left), q], 1), np.stack([np.full(k.size, right), k], 1)], 1)
        colours = np.tile(np.asarray(to_rgba(head_colour(head))), (q.size, 1))
        colours[:, 3] = np.clip(w, 0.0, 1.0)
        axes.add_collection(LineCollection(list(segments), colors=colours, linewidths=1.6))
    for i, token in enumerate(shown):
        colour = MARK_COLOUR if marked_from is not None and i + first >= marked_from else "black"
        axes.text(left - 0.02, i, token, ha="right", va="center", color=colour, **_text_style(size))
        axes.text(right + 0.02, i, token, ha="left", va="center", color=colour, **_text_style(size))
    figure.text(0.04, 1 - 0.15 / height, title, va="top", **_text_style(12))
    caption = "line opacity = attention weight" + (f" · {notice}" if notice else "")
    figure.text(0.04, 1 - 0.42 / height, caption, va="top", **_text_style(8))
    for i, head in enumerate(head_ids[:8]):  # a legend: each head's name in its colour
        figure.text(0.04 + i * 0.115, 0.3 / height, f"■ head {head}", color=head_colour(head), va="center",
                    **_text_style(8))
    return figure


def render_scores(scores: Mapping[str, np.ndarray], title: str) -> Figure:
    """One [layers, heads] heatmap per score name, side by side, each on its own colour scale."""
    names = list(scores)
    layers, heads = np.asarray(scores[names[0]]).shape
    cell = 0.45 if heads <= 12 else 0.25
    width = max(4.0, len(names) * (heads * cell + 1.4) + 0.4)
    height = layers * cell + 1.6
    figure = _new_figure(width, height, layout="constrained")
    axes_list = figure.subplots(1, len(names), squeeze=False)[0]
    for axes, name in zip(axes_list, names, strict=True):
        table = np.asarray(scores[name], dtype=np.float32)
        image = axes.imshow(table, cmap="magma", interpolation="nearest", aspect="equal")
        axes.set_title(name, **_text_style(10))
        axes.set_xlabel("head", fontsize=8)
        axes.set_ylabel("layer", fontsize=8)
        axes.set_xticks(range(heads))
        axes.set_yticks(range(layers))
        axes.tick_params(labelsize=7, length=0)
        if layers * heads <= 144:
            middle = float(np.nanmin(table) + np.nanmax(table)) / 2
            for (y, x), value in np.ndenumerate(table):
                axes.text(x, y, f"{value:.2f}", ha="center", va="center", fontsize=6,
                          color="black" if value > middle else "white")
        figure.colorbar(image, ax=axes, shrink=0.8)
    figure.suptitle(title, **_text_style(12))
    return figure


def text_scores(weights: np.ndarray) -> dict[str, np.ndarray]:
    """Scores read from one text's map alone, [layers, heads] each: the mean weight on the previous
    token, the mean weight on the first token (an attention sink), and the mean row entropy (nats).
    (Induction needs a repeated random sequence, so it comes from the model, not from a text.)"""
    p = weights.astype(np.float32)
    length = p.shape[-1]
    previous = p[..., np.arange(1, length), np.arange(length - 1)].mean(-1) if length > 1 else np.zeros(p.shape[:2])
    first = p[..., 1:, 0].mean(-1) if length > 1 else np.ones(p.shape[:2])
    entropy = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(-1).mean(-1)
    return {"previous token": previous, "first token": first, "entropy (nats)": entropy}
