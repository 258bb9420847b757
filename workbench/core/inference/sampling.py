"""Logits processors for sampling: repetition penalty, temperature, top-k, top-p, min-p.

Each processor takes the next-token logits of one sequence (a 1-D float tensor over the
vocabulary) and returns new logits; filtered tokens get `-inf`, so a softmax gives them
probability 0. They run in the order transformers' `generate` uses (penalty, temperature, top-k,
top-p, min-p), so the same settings mean the same thing here and there.
"""

from __future__ import annotations

import torch

from workbench.core.base.specs import SampleSpec

_FILTERED = float("-inf")


def apply_repetition_penalty(logits: torch.Tensor, seen_ids: torch.Tensor | None, penalty: float) -> torch.Tensor:
    """CTRL-style penalty (Keskar et al. 2019) on every token already in the prompt or the output.

    A positive logit is divided by `penalty`, a negative one multiplied, so penalty > 1 always
    makes a seen token less likely (and < 1 more likely), like transformers' processor.
    """
    if penalty == 1.0 or seen_ids is None or seen_ids.numel() == 0:
        return logits
    scores = logits.gather(0, seen_ids)
    scores = torch.where(scores > 0, scores / penalty, scores * penalty)
    return logits.scatter(0, seen_ids, scores)


def apply_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the `k` most likely tokens (ties at the k-th value are kept too)."""
    if k <= 0 or k >= logits.numel():
        return logits
    kth_value = torch.topk(logits, k).values[-1]
    return logits.masked_fill(logits < kth_value, _FILTERED)


def apply_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus sampling (Holtzman et al. 2019): keep the smallest set of most likely tokens whose
    probabilities add up to at least `p`; the most likely token always stays."""
    if p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=True)
    cumulative = sorted_logits.softmax(-1).cumsum(-1)
    # Drop a token when the tokens before it already reach p.
    drop_sorted = (cumulative - sorted_logits.softmax(-1)) >= p
    drop_sorted[0] = False
    drop = torch.zeros_like(drop_sorted).scatter(0, order, drop_sorted)
    return logits.masked_fill(drop, _FILTERED)


def apply_min_p(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Keep tokens whose probability is at least `min_p` times the top token's (Nguyen et al. 2024)."""
    if min_p <= 0.0:
        return logits
    probs = logits.softmax(-1)
    return logits.masked_fill(probs < min_p * probs.max(), _FILTERED)


def process_logits(logits: torch.Tensor, seen_ids: torch.Tensor | None, spec: SampleSpec) -> torch.Tensor:
    """All of `spec`'s processors in transformers' order. Greedy (temperature 0) only applies the
    repetition penalty: the filters cannot change which token is the most likely."""
    logits = apply_repetition_penalty(logits, seen_ids, spec.repetition_penalty)
    if spec.temperature == 0:
        return logits
    if spec.temperature != 1.0:
        logits = logits / spec.temperature
    logits = apply_top_k(logits, spec.top_k)
    logits = apply_top_p(logits, spec.top_p)
    return apply_min_p(logits, spec.min_p)


def choose_token(logits: torch.Tensor, spec: SampleSpec, generator: torch.Generator) -> int:
    """Pick the next token from processed logits: the argmax when greedy, else a draw.

    The draw happens on the CPU with the caller's dedicated generator, so the same seed gives the
    same text on every device and no global RNG is touched.
    """
    if spec.temperature == 0:
        return int(torch.argmax(logits))
    probs = logits.float().softmax(-1).cpu()
    return int(torch.multinomial(probs, 1, generator=generator))
