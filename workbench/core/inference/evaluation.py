"""How good a model is on held-out tokens: perplexity over a whole text, loss of each token."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.events import Progress
from workbench.core.base.specs import ModelSpec
from workbench.core.models.modeling import logits_of, mask_tokens, model_kind

_EVAL_SEED = 0  # BERT's masks in evaluation are drawn from a fixed seed so numbers are comparable


def _loss_sum(model: torch.nn.Module, spec: ModelSpec, window: torch.Tensor, mask_token_id: int | None,
              generator: torch.Generator) -> tuple[float, int]:
    """(sum of token losses, number of predicted tokens) for a (B, L) batch of windows."""
    inputs, targets = window[:, :-1], window[:, 1:]
    if model_kind(spec) == "masked":
        inputs, targets = mask_tokens(inputs, spec.vocab_size, mask_token_id, generator)
    logits = logits_of(model, inputs).float()
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                           ignore_index=-100, reduction="sum")
    return float(loss), int((targets != -100).sum())


def perplexity(model: torch.nn.Module, spec: ModelSpec, ids: np.ndarray, *, batch_size: int = 8,
               device: str | torch.device = "cpu", mask_token_id: int | None = None
               ) -> Generator[Progress, None, tuple[float, float]]:
    """Mean loss and perplexity over `ids` cut into non-overlapping windows of block_size predictions.

    Causal models and the LSTM: each window holds block_size + 1 tokens and predicts the last
    block_size, so every token after the first is predicted exactly once. BERT: each window's tokens
    are masked as in training (fixed seed) and the masked ones predicted (a pseudo-perplexity).
    Yields Progress once per batch; returns (mean loss, perplexity)."""
    ids = np.asarray(ids)
    n, width = len(ids), spec.block_size
    if n < 2:
        raise InvalidSpecError("evaluation needs at least 2 tokens: use a longer text or validation split")
    starts = list(range(0, n - 1, width))
    full = [s for s in starts if s + width + 1 <= n]
    batches = [full[i:i + batch_size] for i in range(0, len(full), batch_size)]
    if len(full) < len(starts):  # the shorter last window goes alone
        batches.append(starts[len(full):])
    generator = torch.Generator().manual_seed(_EVAL_SEED)
    total, count, done = 0.0, 0, 0
    was_training = model.training
    model.eval()
    try:
        for batch_starts in batches:
            window = np.stack([ids[s:s + width + 1] for s in batch_starts]).astype(np.int64)
            with torch.inference_mode():
                loss_sum, predicted = _loss_sum(model, spec, torch.from_numpy(window).to(device),
                                                mask_token_id, generator)
            total, count, done = total + loss_sum, count + predicted, done + len(batch_starts)
            yield Progress(stage="evaluate", done=done, total=len(starts), unit="windows")
    finally:
        model.train(was_training)
    mean = total / max(count, 1)
    return mean, (math.exp(mean) if mean < 700 else float("inf"))


def per_token_loss(model: torch.nn.Module, spec: ModelSpec, ids: Sequence[int] | np.ndarray,
                   device: str | torch.device = "cpu", *, mask_token_id: int | None = None) -> np.ndarray:
    """The loss (nats) of each token. Causal models and the LSTM: given its prefix (at most block_size
    tokens of it for transformers, through windows overlapping by half), the first token NaN.
    BERT: with that token alone replaced by `mask_token_id` (pseudo-log-likelihood), so no NaN."""
    tokens = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)
    n = len(tokens)
    out = np.full(n, np.nan, dtype=np.float32)
    if n < 2 and model_kind(spec) != "masked":
        return out
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            if model_kind(spec) == "masked":
                _masked_token_losses(model, spec, tokens, out, mask_token_id)
            else:
                _causal_token_losses(model, spec, tokens, out)
    finally:
        model.train(was_training)
    return out


def _causal_token_losses(model: torch.nn.Module, spec: ModelSpec, tokens: torch.Tensor, out: np.ndarray) -> None:
    n = len(tokens)
    width = n - 1 if model_kind(spec) == "lstm" else spec.block_size
    stride = max(1, width // 2)
    scored_until = 0  # targets 1..scored_until have a loss
    begin = 0
    while scored_until < n - 1:
        end = min(begin + width, n - 1)  # inputs tokens[begin:end] predict tokens[begin+1:end+1]
        logits = logits_of(model, tokens[None, begin:end]).float()[0]
        losses = F.cross_entropy(logits, tokens[begin + 1:end + 1], reduction="none").cpu().numpy()
        first_new = scored_until - begin  # index into this window's predictions
        out[scored_until + 1:end + 1] = losses[first_new:]
        scored_until = end
        begin += stride


def _masked_token_losses(model: torch.nn.Module, spec: ModelSpec, tokens: torch.Tensor, out: np.ndarray,
                         mask_id: int | None, rows: int = 32) -> None:
    if mask_id is None:
        raise InvalidSpecError("a BERT model needs a [MASK] token but this tokenizer has none: "
                               "use a tokenizer trained in this app (they all reserve [MASK])")
    for begin in range(0, len(tokens), spec.block_size):
        window = tokens[begin:begin + spec.block_size]
        for first in range(0, len(window), rows):
            positions = torch.arange(first, min(first + rows, len(window)), device=tokens.device)
            batch = window.repeat(len(positions), 1)
            batch[torch.arange(len(positions)), positions] = mask_id
            logits = logits_of(model, batch).float()[torch.arange(len(positions)), positions]
            losses = F.cross_entropy(logits, window[positions], reduction="none").cpu().numpy()
            out[begin + first:begin + first + len(positions)] = losses
