"""Head scores: what kind of work each attention head does, one number per layer and head.

- previous-token: the mean weight a token gives the token just before it (a stripe just below
  the diagonal); the first half of an induction circuit.
- induction: on a random token sequence repeated twice, the mean weight a token of the second copy
  gives the token just *after* its earlier occurrence (Olsson et al. 2022, "In-context learning and
  induction heads"; TransformerLens measures it the same way). Random tokens: nothing but the
  repetition can tell a head where to look, so a high score is the mechanism, not memorised text.
- first-token (sink): the mean weight on the first token, where heads with nothing to do park
  their attention (Xiao et al. 2023, "attention sinks").
- entropy: each row's entropy divided by the largest it could have (log of the keys it sees), so
  0 is one token and 1 is uniform, whatever the row's length.

The row of the first token is left out of every mean: it can only attend to itself.

This module is numpy only (the window imports it); `head_scores.py` runs a model for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.base.errors import InvalidSpecError

SCORE_NAMES = ("induction", "previous_token", "first_token", "entropy")
SCORE_TITLES = {"induction": "Induction", "previous_token": "Previous token", "first_token": "First token (sink)",
                "entropy": "Entropy (0 sharp, 1 uniform)"}
INDUCTION_THRESHOLD = 0.3  # a head giving 30% of its weight to the induction target (chance is ~1/period)


def previous_token_score(weights: np.ndarray) -> np.ndarray:
    """[..., T, T] -> [...]: mean weight of token i on token i - 1."""
    w = np.asarray(weights, dtype=np.float32)
    size = w.shape[-1]
    if size < 2:
        return np.zeros(w.shape[:-2], dtype=np.float32)
    rows = np.arange(1, size)
    return w[..., rows, rows - 1].mean(axis=-1)


def first_token_score(weights: np.ndarray) -> np.ndarray:
    """[..., T, T] -> [...]: mean weight on the first token (rows after the first)."""
    w = np.asarray(weights, dtype=np.float32)
    if w.shape[-1] < 2:
        return np.zeros(w.shape[:-2], dtype=np.float32)
    return w[..., 1:, 0].mean(axis=-1)


def normalised_entropy(weights: np.ndarray, causal: bool = True) -> np.ndarray:
    """[..., T, T] -> [...]: row entropy over its largest possible value, averaged over rows 1..T-1."""
    w = np.asarray(weights, dtype=np.float32)
    size = w.shape[-1]
    if size < 2:
        return np.zeros(w.shape[:-2], dtype=np.float32)
    terms = np.where(w > 0, -w * np.log(np.where(w > 0, w, 1.0)), 0.0).sum(axis=-1)[..., 1:]
    visible = np.arange(2, size + 1) if causal else np.full(size - 1, size)
    return (terms / np.log(visible)).mean(axis=-1)


def induction_score(weights: np.ndarray, period: int) -> np.ndarray:
    """[..., T, T] of a sequence whose tokens repeat with `period` -> [...]: mean weight from
    position period + j (second copy) to j + 1, the token after the earlier occurrence."""
    w = np.asarray(weights, dtype=np.float32)
    if period < 2 or w.shape[-1] < 2 * period:
        raise InvalidSpecError(f"an induction score needs two copies of at least 2 tokens (period {period}, "
                               f"{w.shape[-1]} tokens)")
    j = np.arange(period - 1)
    return w[..., period + j, j + 1].mean(axis=-1)


@dataclass(frozen=True)
class HeadScores:
    """Each score as float32 [layers, heads]."""

    induction: np.ndarray
    previous_token: np.ndarray
    first_token: np.ndarray
    entropy: np.ndarray
    period: int  # tokens in each random copy
    text_tokens: int = 0  # tokens of the text the other scores came from; 0: the random sequences
    notes: tuple[str, ...] = field(default=())

    def score(self, name: str) -> np.ndarray:
        if name not in SCORE_NAMES:
            raise InvalidSpecError(f"unknown head score {name!r}: use one of {', '.join(SCORE_NAMES)}")
        return np.asarray(getattr(self, name))

    def induction_heads(self, threshold: float = INDUCTION_THRESHOLD) -> list[tuple[int, int, float]]:
        """(layer, head, score) of the heads at or above `threshold`, strongest first."""
        found = [(int(layer), int(head), float(self.induction[layer, head]))
                 for layer, head in zip(*np.nonzero(self.induction >= threshold), strict=True)]
        return sorted(found, key=lambda item: -item[2])
