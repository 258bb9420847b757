"""Colour scales for attention maps: which values the colours span, and how they are spread.

A fixed 0-1 scale washes out long inputs: with 500 keys a row's weights are mostly near 0.002, all
the same dark colour. So each map gets its own range (`auto_top`: a high quantile of its weights,
not the maximum, because the first row of a causal map always holds a single 1.0), and the values
can be spread by a power (sqrt lifts small weights) or a log scale. `shared` uses one range for all
layers and heads of a text, so maps compare at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALES = ("linear", "power", "log")
SCALE_TITLES = {"linear": "Linear", "power": "Power (square root)", "log": "Log"}
LOG_FLOOR = 1e-4  # weights below are drawn as this: float16 attention is ~6e-8 at best, noise below
TOP_QUANTILE = 0.995
SAMPLE = 262_144  # values looked at to choose a range; a strided sample of larger maps


def auto_top(values: np.ndarray) -> float:
    """A top for the colour scale: the 99.5% quantile of the positive weights (a sample of them)."""
    flat = np.asarray(values).reshape(-1)
    if flat.size > SAMPLE:
        flat = flat[:: flat.size // SAMPLE + 1]
    positive = flat[flat > 0].astype(np.float32)
    if not positive.size:
        return 1.0
    top = float(np.quantile(positive, TOP_QUANTILE))
    return top if top > 0 else 1.0


@dataclass(frozen=True)
class ColorScale:
    kind: str = "linear"  # one of SCALES
    top: float = 1.0  # weight drawn in the brightest colour (and everything above it)

    def image(self, matrix: np.ndarray) -> np.ndarray:
        """The values to draw: the weights spread by the scale (float32)."""
        m = np.asarray(matrix, dtype=np.float32)
        if self.kind == "power":
            return np.sqrt(np.maximum(m, 0.0))
        if self.kind == "log":
            return np.log10(np.maximum(m, LOG_FLOOR))
        return m

    def levels(self) -> tuple[float, float]:
        """The colour range in image units (what `image` returns)."""
        top = max(float(self.top), LOG_FLOOR * 10)
        if self.kind == "power":
            return 0.0, float(np.sqrt(top))
        if self.kind == "log":
            return float(np.log10(LOG_FLOOR)), float(np.log10(top))
        return 0.0, top

    def label(self) -> str:
        return {"linear": "weight", "power": "√ weight", "log": "log10 weight"}.get(self.kind, "weight")
