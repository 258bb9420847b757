"""TensorBoard's scalar smoothing: a debiased exponential moving average, vectorised with numpy.

TensorBoard (`vz_line_chart2/line-chart.ts`, `resmoothDataset`) runs, over the points in order,

    last = last * w + (1 - w) * y;  n += 1;  smoothed = last / (1 - w ** n)

starting from `last = 0`; a non-finite value is shown as it is and neither moves `last` nor counts;
a series whose values are all equal is shown unsmoothed (TensorBoard issue #786: rounding would
otherwise make a flat line wobble). `debiased_ema` gives the same numbers.

A Python loop over a million points takes about half a second, so the recurrence is solved in
blocks: inside a block of length L, `last_j = w^j * sum_{i<=j} (1 - w) y_i w^-i` is a cumulative
sum, and a block starts from the end of the one before it (times `w^(j+1)`). L is chosen so that
`w^-L` stays below 1e100 (no overflow), which also makes `w^L` so small that the carry from two
blocks back is below double precision: the blocks need one carry each, all applied at once.
"""

from __future__ import annotations

import math

import numpy as np

_MAX_SCALE_LOG10 = 100.0  # w**-L at most 1e100: no overflow for values up to 1e200


def debiased_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """The smoothed series, as TensorBoard draws it with smoothing `weight` (0 = none, < 1)."""
    y = np.asarray(values, dtype=np.float64)
    out = y.copy()
    if weight <= 0.0 or len(y) == 0 or bool(np.all(y == y[0])):
        return out
    if weight >= 1.0:  # TensorBoard: the average never moves from 0 and no debiasing applies
        out[np.isfinite(y)] = 0.0
        return out
    finite = np.isfinite(y)
    v = y if finite.all() else y[finite]
    ema = _ema_from_zero(v, weight)
    ema /= _debias(len(v), weight)
    if v is y:
        return ema
    out[finite] = ema
    return out


def _ema_from_zero(v: np.ndarray, w: float) -> np.ndarray:
    """`last_k = w * last_(k-1) + (1 - w) * v_k` from last = 0, for every k, without a Python loop."""
    n = len(v)
    block = max(1, min(n, int(_MAX_SCALE_LOG10 * math.log(10) / -math.log(w))))
    blocks = -(-n // block)
    padded = np.zeros(blocks * block)
    padded[:n] = v
    grid = padded.reshape(blocks, block)
    j = np.arange(block, dtype=np.float64)
    down = np.power(w, j)  # w^j, from 1 down to about 1e-100
    grid *= (1.0 - w) / down  # (1 - w) * v_i * w^-i
    np.cumsum(grid, axis=1, out=grid)
    grid *= down
    if blocks > 1:
        # each block starts where the one before it ended; its carry from further back is below 1e-100
        carry = grid[:-1, -1].copy()  # local ends, before any block gets its own carry
        grid[1:] += (down * w)[None, :] * carry[:, None]
    return grid.reshape(-1)[:n]


def _debias(n: int, w: float) -> np.ndarray:
    """`1 - w^k` for k = 1..n; equal to 1 once w^k is below double precision."""
    out = np.ones(n)
    significant = min(n, int(math.ceil(-40.0 / math.log10(w))) if w > 0 else 0)
    if significant > 0:
        out[:significant] = 1.0 - np.power(w, np.arange(1, significant + 1, dtype=np.float64))
    return out
