"""Head scores of a model: runs it on repeated random tokens (and a text) and scores every head.

The scores themselves and why they are measured this way: `scores.py`.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from workbench.core.attention.extraction import attention_weights
from workbench.core.attention.scores import (
    MIN_REPEATS,
    HeadScores,
    first_token_score,
    induction_score,
    normalised_entropy,
    previous_token_score,
    repeat_targets,
    text_induction_score,
)
from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.inference.models import context_size, is_masked_lm
from workbench.core.models.attention_hooks import has_attention, unwrap
from workbench.core.tokenizers.protocol import Tokenizer

MAX_PERIOD = 64
REPEATS = 4  # random sequences averaged: one is noisy for a 20-token period


def ordinary_token_ids(tokenizer: Tokenizer) -> list[int]:
    """Ids that are not special tokens (no end-of-text or mask in a random sequence)."""
    special = set(getattr(tokenizer, "special_tokens", {}).values())
    for extra in (getattr(tokenizer, "eos_token_id", None), getattr(tokenizer, "mask_token_id", None)):
        if extra is not None:
            special.add(extra)
    return [i for i in range(tokenizer.vocab_size) if i not in special]


def repeated_random_ids(tokenizer: Tokenizer, period: int, seed: int) -> list[int]:
    """`period` distinct random ordinary tokens, twice (distinct: each has one earlier occurrence)."""
    pool = ordinary_token_ids(tokenizer)
    rng = np.random.default_rng(seed)
    first = rng.choice(np.asarray(pool), size=period, replace=period > len(pool)).tolist()
    return [int(i) for i in first] * 2


def choose_period(block: int | None, tokenizer: Tokenizer) -> int:
    """As long as fits twice in the context and stays unique in the vocabulary (at most 64)."""
    limit = (block or 2 * MAX_PERIOD) // 2
    return max(2, min(MAX_PERIOD, limit, len(ordinary_token_ids(tokenizer))))


def head_scores(model: nn.Module, tokenizer: Tokenizer, text: str | None = None, *, period: int | None = None,
                seed: int = 0, repeats: int = REPEATS) -> HeadScores:
    """Every head's scores for `model`. Induction comes from `repeats` random sequences repeated twice,
    and also from `text` where it repeats itself (a causal model; the larger score per head);
    previous-token, first-token and entropy from `text` when it is given, else from those sequences."""
    model = unwrap(model)
    if not has_attention(model):
        raise WorkbenchError("head scores need a GPT-2, Llama or BERT run; an LSTM has no attention")
    block = context_size(model)
    period = period or choose_period(block, tokenizer)
    if block and 2 * period > block:
        raise InvalidSpecError(f"a period of {period} tokens does not fit twice in the context of {block}")
    causal = not is_masked_lm(model)
    maps = [attention_weights(model, repeated_random_ids(tokenizer, period, seed + r), block=2 * period,
                              causal=causal).astype(np.float32) for r in range(max(1, repeats))]
    random_maps = np.mean(maps, axis=0)
    notes: list[str] = []
    source, ids = random_maps, []
    if text is not None and text.strip():
        ids = list(tokenizer.encode(text))
        if block and len(ids) > block:
            notes.append(f"the text is {len(ids)} tokens; scored on its last {block}")
            ids = ids[-block:]
        if len(ids) >= 2:
            source = attention_weights(model, ids, block=len(ids), causal=causal).astype(np.float32)
    random_induction = induction_score(random_maps, period)
    rows, cols = repeat_targets(ids) if causal and source is not random_maps else (np.empty(0, int), np.empty(0, int))
    repeated = len(np.unique(rows))  # positions of the text that repeat an earlier span
    text_induction = text_induction_score(source, rows, cols) if repeated >= MIN_REPEATS else None
    induction = random_induction if text_induction is None else np.maximum(random_induction, text_induction)
    return HeadScores(induction=induction, previous_token=previous_token_score(source),
                      first_token=first_token_score(source), entropy=normalised_entropy(source, causal),
                      period=period, text_tokens=len(ids) if source is not random_maps else 0, notes=tuple(notes),
                      random_induction=random_induction, text_induction=text_induction, repeat_positions=repeated)
