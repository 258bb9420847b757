"""What the head view draws, shared by the window and the figures (numpy only, so the window can
use it without loading matplotlib): which token pairs get a line, the colour of each head, and the
part of a long text that is drawn."""

from __future__ import annotations

import numpy as np

MIN_WEIGHT = 0.01  # lighter lines would be invisible; a 256-token text has 65k pairs per head
LINES_MAX_TOKENS = 256
# One colour per head (matplotlib's tab10, then tab20's lighter half), readable on light and dark.
HEAD_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")
MARK_COLOUR = "#d95f02"  # generated tokens (after the prompt)


def head_colour(head: int) -> str:
    return HEAD_COLOURS[head % len(HEAD_COLOURS)]


def lines_window(length: int, limit: int = LINES_MAX_TOKENS) -> tuple[int, str]:
    """(first token drawn, notice): the last `limit` tokens of a longer text."""
    if length <= limit:
        return 0, ""
    return length - limit, f"the head view draws the last {limit} of {length} tokens"


def line_segments(weights: np.ndarray, min_weight: float = MIN_WEIGHT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query index, key index, weight) of every pair of a [T, T] map worth a line, strongest last
    (so they are drawn on top)."""
    queries, keys = np.nonzero(weights >= min_weight)
    values = weights[queries, keys].astype(np.float32)
    order = np.argsort(values, kind="stable")
    return queries[order], keys[order], values[order]
