"""Min/max pyramids: what a long curve needs to be drawn at any zoom with about two points per pixel.

Level k of a series of n values cuts it into buckets of `FACTOR**k` consecutive points and keeps,
for each bucket, the indices of its smallest and its largest value in x order, so a single-sample
spike survives at every level (it is the largest value of its bucket, and of every bucket above).
Levels hold indices, not values: they serve any x axis (step, tokens, time) and read the values
from the series itself. The levels are built from complete buckets only, so appended points extend
them without touching what is already there; the incomplete tail of a level is read from the level
below it.

`visible_indices` picks, for the visible x range and the plot's width, the coarsest level whose
buckets hold no more points than the densest pixel column, slices it with binary search, and then
keeps the smallest and largest point of every pixel column: at most about two points per pixel
whatever the zoom, in microseconds for a million points. Non-finite values never win a bucket
unless the whole bucket is non-finite (then the curve shows its gap).
"""

from __future__ import annotations

import numpy as np

FACTOR = 4  # each level has a quarter of the buckets of the one below: the levels take 2n/3 indices


def _min_max(v: np.ndarray, idx: np.ndarray | None, start: int) -> np.ndarray:
    """For rows of values `v` (m, g) at indices `idx` (None: consecutive from `start`): the index of
    each row's smallest and largest value, in x order."""
    low, high = v, v
    if not np.isfinite(v).all():
        finite = np.isfinite(v)
        low, high = np.where(finite, v, np.inf), np.where(finite, v, -np.inf)
    lo_col, hi_col = np.argmin(low, axis=1), np.argmax(high, axis=1)
    if idx is None:
        base = start + np.arange(len(v), dtype=np.int64) * v.shape[1]
        lo, hi = base + lo_col, base + hi_col
    else:
        rows = np.arange(len(v))
        lo, hi = idx[rows, lo_col], idx[rows, hi_col]
    out = np.empty((len(v), 2), dtype=np.int32)
    out[:, 0] = np.minimum(lo, hi)
    out[:, 1] = np.maximum(lo, hi)
    return out.reshape(-1)


class MinMaxPyramid:
    """The min/max levels of one append-only series (see the module's docstring)."""

    def __init__(self) -> None:
        self.n = 0
        self.levels: list[np.ndarray] = []  # levels[k - 1]: 2 indices per complete bucket of FACTOR**k

    def update(self, values: np.ndarray, reset: bool = False) -> None:
        """Follow `values`: appended points extend the levels; `reset` (or a shorter series) rebuilds."""
        n = len(values)
        if reset or n < self.n:
            self.n, self.levels = 0, []
        if n == self.n:
            return
        for k in range(1, 64):
            done = len(self.levels[k - 1]) // 2 if k <= len(self.levels) else 0
            group = FACTOR if k == 1 else 2 * FACTOR  # points, or a level's index pairs
            complete = (n if k == 1 else len(self.levels[k - 2])) // group
            if complete < 1:
                break
            if complete > done:
                if k == 1:
                    new = _min_max(values[done * group:complete * group].reshape(-1, group), None, done * group)
                else:
                    rows = self.levels[k - 2][done * group:complete * group].reshape(-1, group)
                    new = _min_max(values[rows], rows, 0)
                if k > len(self.levels):
                    self.levels.append(new)
                else:
                    self.levels[k - 1] = np.concatenate([self.levels[k - 1], new])
        self.n = n

    def span(self, level: int, lo: int, hi: int) -> np.ndarray:
        """Indices standing for points [lo, hi) at `level` (0: the points themselves), in x order."""
        if level <= 0 or lo >= hi:
            return np.arange(lo, hi, dtype=np.int64)
        size = FACTOR ** level
        complete = len(self.levels[level - 1]) // 2
        b0, b1 = lo // size, min(-(-hi // size), complete)
        if b1 <= b0:
            return self.span(level - 1, lo, hi)
        head = self.levels[level - 1][2 * b0:2 * b1]
        covered = b1 * size
        return head if covered >= hi else np.concatenate([head, self.span(level - 1, covered, hi)])


def pixel_edges(x0: float, x1: float, width: int, log_x: bool) -> np.ndarray:
    """The x (data units) of the `width` + 1 pixel column edges of a view from x0 to x1 (view units)."""
    edges = np.linspace(x0, x1, width + 1)
    return np.power(10.0, edges) if log_x else edges


def visible_indices(pyramid: MinMaxPyramid, x: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Indices of the points to draw for sorted `x` between `edges[0]` and `edges[-1]`: the smallest
    and largest of each pixel column (between two edges), plus one point beyond each side."""
    n = len(x)
    i0 = max(0, int(np.searchsorted(x, edges[0], side="left")) - 1)
    i1 = min(n, int(np.searchsorted(x, edges[-1], side="right")) + 1)
    if i1 - i0 <= 2 * (len(edges) - 1):
        return np.arange(i0, i1, dtype=np.int64)
    density = int(np.diff(np.searchsorted(x, edges)).max())
    level = 0
    while level < len(pyramid.levels) and FACTOR ** (level + 1) <= density:
        level += 1
    idx = pyramid.span(level, i0, i1)
    return _per_column(idx, x, values, edges, i0, i1)


def _per_column(idx: np.ndarray, x: np.ndarray, values: np.ndarray, edges: np.ndarray,
                i0: int, i1: int) -> np.ndarray:
    """The smallest and largest point of each pixel column among `idx`, with the range's end points."""
    column = np.searchsorted(edges, x[idx], side="right")  # 0: left of the view, len(edges): right of it
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    v = values[idx]
    finite = np.isfinite(v)
    low, high = np.where(finite, v, np.inf), np.where(finite, v, -np.inf)
    picks = []
    for masked, reduce in ((low, np.minimum), (high, np.maximum)):
        best = np.repeat(reduce.reduceat(masked, starts), np.diff(np.r_[starts, len(idx)]))
        hits = np.flatnonzero(masked == best)
        picks.append(idx[hits[np.searchsorted(hits, starts)]])
    both = np.sort(np.concatenate([[i0, i1 - 1], picks[0], picks[1]]))
    return both[np.r_[True, both[1:] != both[:-1]]]
