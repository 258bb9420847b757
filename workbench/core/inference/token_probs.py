"""What the sampler did to a token's odds, and alternatives as text to continue from.

`generate` reports the model's own probabilities (softmax of the raw logits). The playground also
shows the same alternatives after the sampler (repetition penalty, temperature, top-k, top-p, min-p),
so a person sees why an unlikely token was drawn or a likely one never could be, and it branches
from an alternative, which needs the alternative's real text (its display form shows a space as "·").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from workbench.core.base.specs import SampleSpec
from workbench.core.tokenizers.protocol import Tokenizer


def sampler_view(processed: torch.Tensor, token: int, top_ids: Sequence[int], spec: SampleSpec,
                 texts: TokenTexts) -> dict[str, Any]:
    """`TokenGenerated`'s sampler fields for a token drawn from `processed` (the logits after the
    sampler's processors): the chosen token's and each alternative's probability, their texts and ids.

    Greedy decoding takes the argmax, so after the sampler the chosen token has probability 1."""
    if spec.temperature == 0:
        prob = 1.0
        after = tuple(1.0 if i == token else 0.0 for i in top_ids)
    else:
        probs = processed.float().softmax(-1)
        wanted = probs[torch.tensor([token, *top_ids], dtype=torch.long, device=probs.device)].tolist()
        prob, after = wanted[0], tuple(wanted[1:])
    return {"prob_sampled": prob, "alternatives_sampled": after,
            "alternative_texts": tuple(texts[i] for i in top_ids), "alternative_ids": tuple(top_ids)}


class TokenTexts(dict):
    """Each token id decoded on its own, remembered: the same few ids come up again and again.

    A byte-level token that is part of a character decodes to U+FFFD; continuing from it gives the
    replacement character, which is the best a single token can say."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer

    def __missing__(self, token_id: int) -> str:
        text = self[token_id] = self.tokenizer.decode([int(token_id)])
        return text
