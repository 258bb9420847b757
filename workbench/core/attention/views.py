"""The attention views as matplotlib figures, beyond the heatmaps of `figures.py`: the head view
(bertviz's lines) and a layers x heads score table. The window's Export and the command line's
`attention --png --view lines|scores` both draw through these, so a file looks the same wherever
it was made.

- `render_lines`: the text twice, queries on the left and keys on the right, a line from each
  token to each token it attends to with the weight as opacity, one colour per head (several heads
  overlay, as bertviz draws them). Weights under `MIN_WEIGHT` are left out: they would be invisible
  and a 256-token text has 65k pairs per head. Texts longer than `LINES_MAX_TOKENS` keep their last
  tokens (`lines_window` says which), since a column of more labels does not fit a page.
- `render_scores`: the model's head scores (`head_scores.py`: induction on repeated random tokens,
  previous-token, first-token and entropy) as one small heatmap per score on the window's 0-1 scale,
  numbers in the cells when the table is small enough to read them, induction heads outlined.
  The window's Scores tab, its Export and `attention --view scores` all show these same scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

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
from workbench.core.attention.scores import SCORE_NAMES, SCORE_TITLES, HeadScores

__all__ = ["HEAD_COLOURS", "LINES_MAX_TOKENS", "MARK_COLOUR", "MIN_WEIGHT", "head_colour", "line_segments",
           "lines_window", "render_lines", "render_scores", "scores_caption"]


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


def scores_caption(scores: HeadScores) -> str:
    """Where the scores came from and which heads are induction heads, in one line."""
    heads = scores.induction_heads()
    found = ("induction heads: " + ", ".join(f"L{layer} H{head} ({value:.2f})" for layer, head, value in heads[:6])
             if heads else "no induction head")
    source = f"the text ({scores.text_tokens} tokens)" if scores.text_tokens else "the random tokens"
    return " · ".join([found, f"induction {scores.induction_source()}, the others on {source}",
                       *scores.notes])


def render_scores(scores: HeadScores, title: str) -> Figure:
    """One [layers, heads] heatmap per score, side by side, all on a 0-1 scale (every score lies in
    0-1, so colours compare, as in the window); induction heads outlined in red."""
    layers, heads = scores.induction.shape
    cell = 0.45 if heads <= 12 else 0.25
    width = max(4.0, len(SCORE_NAMES) * (heads * cell + 1.4) + 0.4)
    height = layers * cell + 1.9
    figure = _new_figure(width, height, layout="constrained")
    axes_list = figure.subplots(1, len(SCORE_NAMES), squeeze=False)[0]
    for axes, name in zip(axes_list, SCORE_NAMES, strict=True):
        table = scores.score(name).astype(np.float32)
        image = axes.imshow(table, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal")
        axes.set_title(SCORE_TITLES[name], **_text_style(10))
        axes.set_xlabel("head", fontsize=8)
        axes.set_ylabel("layer", fontsize=8)
        axes.set_xticks(range(heads))
        axes.set_yticks(range(layers))
        axes.tick_params(labelsize=7, length=0)
        if layers * heads <= 144:
            for (y, x), value in np.ndenumerate(table):
                axes.text(x, y, f"{value:.2f}", ha="center", va="center", fontsize=6,
                          color="black" if value > 0.5 else "white")
        if name == "induction":
            for layer, head, _value in scores.induction_heads():
                axes.add_patch(Rectangle((head - 0.46, layer - 0.46), 0.92, 0.92, fill=False, edgecolor="#ff4d4d",
                                         linewidth=2))
        figure.colorbar(image, ax=axes, shrink=0.8)
    figure.suptitle(f"{title}\n{scores_caption(scores)}", **_text_style(10))
    return figure
