"""Head scores: what kind of work each attention head does, one number per layer and head.

- previous-token: the mean weight a token gives the token just before it (a stripe just below
  the diagonal); the first half of an induction circuit.
- induction: on a random token sequence repeated twice, the mean weight a token of the second copy
  gives the token just *after* its earlier occurrence (Olsson et al. 2022, "In-context learning and
  induction heads"; TransformerLens measures it the same way). Random tokens: nothing but the
  repetition can tell a head where to look, so a high score is the mechanism, not memorised text.
  A text that repeats itself is a second probe (`repeat_targets`): at each position whose last
  REPEAT_MATCH tokens occurred earlier, the weight on the token after that earlier occurrence
  (TransformerLens' "prefix matching" on real text). It finds the heads of a model that copies only
  in the place its data taught it to: the copy task copies after its ' | ', never inside random
  tokens, so its induction heads show on a copy-task line and not on the random probe.
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
REPEAT_MATCH = 3  # tokens a position must share with an earlier span to count as a repeat (1-2 chars recur by chance)
MIN_REPEATS = 8  # repeated positions a text needs before it is a probe of its own


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


def repeat_targets(ids: list[int], match: int = REPEAT_MATCH) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of a text's induction targets: for each position i whose last `match` tokens
    also end at an earlier position j, the pair (i, j + 1), the token that followed them (j + 1 < i)."""
    ends: dict[tuple[int, ...], list[int]] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i in range(match - 1, len(ids)):
        gram = tuple(ids[i - match + 1:i + 1])
        for j in ends.get(gram, ()):
            if j + 1 < i:
                rows.append(i)
                cols.append(j + 1)
        ends.setdefault(gram, []).append(i)
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def text_induction_score(weights: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """[..., T, T] and `repeat_targets` -> [...]: the weight each repeated position gives its targets
    (summed: a span seen twice before has two), averaged over the repeated positions."""
    w = np.asarray(weights, dtype=np.float32)
    if len(rows) == 0:
        return np.zeros(w.shape[:-2], dtype=np.float32)
    positions, which = np.unique(rows, return_inverse=True)
    per_position = np.zeros((len(rows), len(positions)), dtype=np.float32)
    per_position[np.arange(len(rows)), which] = 1.0
    return (w[..., rows, cols] @ per_position).mean(axis=-1)


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
    # `induction` is the larger of the two probes' scores once the text repeats itself (MIN_REPEATS
    # positions or more); each probe's own scores are kept for the readout
    random_induction: np.ndarray | None = None
    text_induction: np.ndarray | None = None
    repeat_positions: int = 0  # positions of the text that repeat an earlier span

    def score(self, name: str) -> np.ndarray:
        if name not in SCORE_NAMES:
            raise InvalidSpecError(f"unknown head score {name!r}: use one of {', '.join(SCORE_NAMES)}")
        return np.asarray(getattr(self, name))

    def induction_source(self) -> str:
        """Where the induction scores came from, as a phrase."""
        probe = f"{self.period} random tokens repeated"
        if self.text_induction is None:
            return f"on {probe}"
        return (f"on {probe} and on the {self.repeat_positions} positions of the text that repeat an earlier "
                f"{REPEAT_MATCH}-token span (the larger of the two)")

    def induction_heads(self, threshold: float = INDUCTION_THRESHOLD) -> list[tuple[int, int, float]]:
        """(layer, head, score) of the heads at or above `threshold`, strongest first."""
        found = [(int(layer), int(head), float(self.induction[layer, head]))
                 for layer, head in zip(*np.nonzero(self.induction >= threshold), strict=True)]
        return sorted(found, key=lambda item: -item[2])
