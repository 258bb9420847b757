"""Attention maps: extraction from GPT-2 / Llama / BERT and the usual aggregations.

`extract_attention` runs one forward pass with eager attention (the only implementation that
computes weights; SDPA silently returns none, DESIGN.md section 9) and keeps each layer as
float16 the moment it is produced (see `attention_hooks`), so 12 layers x 12 heads x 1024 tokens
need about 300 MB rather than the 600 MB of fp32 `output_attentions` plus copies.

Texts longer than the model's context:
- `overflow="truncate"`: only the last `block_size` tokens are read, as if the text began there;
  `dropped_tokens` and `notice` say how many were cut.
- `overflow="window"`: a window of `block_size` tokens slides over the text (at most the last
  `MAX_WINDOW_TOKENS`) in steps of a quarter window; each token's row comes from the window that
  gives it the most context (the earliest window that still holds it for causal models, the
  one where it sits nearest the middle for BERT). The map covers the whole text and is banded:
  a row has weights only over its own window.

Aggregations work on any [layers, heads, T, T] array: `mean_over_heads`, `attention_rollout`
(Abnar & Zuidema 2020) and `head_entropy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.inference.generation import MASK_TEXT, mask_ids
from workbench.core.inference.models import context_size, is_masked_lm
from workbench.core.models.attention_hooks import (
    attention_hooks,
    attention_modules,
    eager_attention,
    has_attention,
    is_hf_model,
    place_model,
    unwrap,
)
from workbench.core.tokenizers.display import visible
from workbench.core.tokenizers.protocol import Tokenizer

Overflow = Literal["truncate", "window"]
MAX_WINDOW_TOKENS = 1024  # keeps window mode's [L, H, T, T] map bounded like a 1024-token context


@dataclass(frozen=True)
class AttentionResult:
    weights: np.ndarray  # float16 [layers, heads, T, T]; rows (queries) sum to 1 over the keys they see
    tokens: tuple[str, ...]  # readable labels: spaces as '·', newlines as '⏎'
    token_ids: tuple[int, ...]
    causal: bool
    dropped_tokens: int = 0  # tokens cut from the start of the text (overflow)
    notice: str = ""

    @property
    def layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def heads(self) -> int:
        return int(self.weights.shape[1])

    def mean_over_heads(self) -> np.ndarray:
        return mean_over_heads(self.weights)

    def rollout(self) -> np.ndarray:
        return attention_rollout(self.weights)

    def entropy(self) -> np.ndarray:
        return head_entropy(self.weights)


def extract_attention(model: nn.Module, tokenizer: Tokenizer, text: str, *, overflow: Overflow = "truncate",
                      device: str | None = None) -> AttentionResult:
    """Attention weights of every layer and head for `text` (see the module docstring).

    `device` moves the model there first; None runs it where it is. The model's train/eval mode and
    attention implementation are given back as they were.
    """
    if overflow not in ("truncate", "window"):
        raise InvalidSpecError(f"unknown overflow mode {overflow!r}: use truncate or window")
    model = unwrap(model)
    if not has_attention(model):
        raise WorkbenchError("attention maps need a GPT-2, Llama or BERT run; an LSTM has no attention")
    masked = is_masked_lm(model)
    mask_id = getattr(tokenizer, "mask_token_id", None)
    ids = mask_ids(tokenizer, text, mask_id) if masked and mask_id is not None and MASK_TEXT in text \
        else list(tokenizer.encode(text))
    if not ids:
        raise InvalidSpecError("the text is empty; type something to see how the model attends to it")
    block = context_size(model) or len(ids)
    dropped, notice = 0, ""
    if len(ids) > block and overflow == "truncate":
        dropped = len(ids) - block
        notice = f"the text is {len(ids)} tokens but the model reads {block}; showing the last {block}"
    elif len(ids) > max(block, MAX_WINDOW_TOKENS):
        dropped = len(ids) - MAX_WINDOW_TOKENS
        notice = (f"the text is {len(ids)} tokens; sliding windows of {block} over the last "
                  f"{MAX_WINDOW_TOKENS} (a longer map would not fit in memory)")
    elif len(ids) > block:
        notice = f"the text is {len(ids)} tokens but the model reads {block}; each row comes from a sliding window"
    ids = ids[dropped:]
    weights = attention_weights(model, ids, block=block, causal=not masked, device=device)
    return AttentionResult(weights=weights, tokens=tuple(readable_tokens(tokenizer, ids)), token_ids=tuple(ids),
                           causal=not masked, dropped_tokens=dropped, notice=notice)


def attention_weights(model: nn.Module, ids: list[int], *, block: int, causal: bool = True,
                      device: str | None = None) -> np.ndarray:
    """float16 [layers, heads, T, T] for token ids; sliding windows when T > block."""
    input_device = place_model(model, device)
    was_training = model.training
    model.eval()
    try:
        if len(ids) > block:
            return _sliding_window_attention(model, ids, block, causal, input_device)
        return _attention_once(model, ids, input_device)
    finally:
        model.train(was_training)


def _run_layers(model: nn.Module, input_ids: torch.Tensor, on_layer) -> None:
    # HF models: run the transformer body only. The LM head's logits are not needed here and would
    # be the largest tensor of all (1024 tokens x 50257 x 4 bytes = 206 MB for GPT-2).
    # No KV cache either: 12 layers of keys and values would stay alive until the pass ends.
    body, options = (model.base_model, {"use_cache": False}) if is_hf_model(model) else (model, {})
    with eager_attention(model), attention_hooks(model, on_layer), torch.inference_mode():
        body(input_ids=input_ids, **options)


def _attention_once(model: nn.Module, ids: list[int], device: torch.device) -> np.ndarray:
    n_layers = len(attention_modules(model))
    out: np.ndarray | None = None

    def keep(layer: int, weights: torch.Tensor) -> None:
        nonlocal out
        if out is None:  # the result is allocated once, when the head count is known
            out = np.empty((n_layers, *weights.shape[1:]), dtype=np.float16)
        torch.from_numpy(out[layer]).copy_(weights[0])  # fp32 -> fp16 straight into place

    _run_layers(model, torch.tensor([ids], dtype=torch.long, device=device), keep)
    assert out is not None
    return out


def _sliding_window_attention(model: nn.Module, ids: list[int], block: int, causal: bool,
                              device: torch.device) -> np.ndarray:
    n = len(ids)
    starts = np.asarray(sorted(set(range(0, n - block, max(1, block // 4))) | {n - block}))
    positions = np.arange(n)
    if causal:  # the earliest window still holding a token gives it the most left context
        owner = np.searchsorted(starts, positions - block, side="right")
    else:  # the window whose middle is nearest
        owner = np.abs(positions[:, None] - (starts[None, :] + block / 2)).argmin(1)
    windows = [(start, positions[owner == w] - start) for w, start in enumerate(starts.tolist())]
    windows = [(start, rows) for start, rows in windows if rows.size]  # rows: window-relative
    n_layers = len(attention_modules(model))
    out: np.ndarray | None = None
    # Windows run as a batch, a few at a time: about 2^20 attention weights per head per call.
    per_call = max(1, 2**20 // (block * block))
    for first in range(0, len(windows), per_call):
        chunk = windows[first:first + per_call]

        def place(layer: int, weights: torch.Tensor, chunk=chunk) -> None:
            nonlocal out
            if out is None:
                out = np.zeros((n_layers, weights.shape[1], n, n), dtype=np.float16)
            for (start, rows), window_weights in zip(chunk, weights, strict=True):
                picked = window_weights[:, torch.from_numpy(rows)].to(torch.float16).cpu().numpy()
                out[layer][:, rows + start, start:start + block] = picked

        batch = torch.tensor([ids[start:start + block] for start, _ in chunk], dtype=torch.long, device=device)
        _run_layers(model, batch, place)
    assert out is not None
    return out


def readable_tokens(tokenizer: Tokenizer, ids: list[int]) -> list[str]:
    """One label per token: the tokenizer's display text (byte-level pieces decoded, a byte that is
    only part of a character as \\xe2) with whitespace made visible: space '·', newline '⏎'."""
    return [visible(tokenizer.token_text(int(token_id))) for token_id in ids]


# ---- aggregations ---------------------------------------------------------------------------------

def mean_over_heads(weights: np.ndarray) -> np.ndarray:
    """[layers, heads, T, T] -> [layers, T, T] (float32)."""
    return weights.astype(np.float32).mean(axis=1)


def attention_rollout(weights: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): how much each token draws on each input token
    through all layers so far, counting the residual path: A' = 0.5 I + 0.5 mean_heads(A), rows
    renormalised, R_l = A'_l R_{l-1}. Returns [layers, T, T]; rows sum to 1."""
    mean = mean_over_heads(weights)
    size = mean.shape[-1]
    rolled = np.empty_like(mean)
    current = np.eye(size, dtype=np.float32)
    for layer in range(mean.shape[0]):
        step = 0.5 * np.eye(size, dtype=np.float32) + 0.5 * mean[layer]
        step /= step.sum(axis=-1, keepdims=True)
        current = step @ current
        rolled[layer] = current
    return rolled


def head_entropy(weights: np.ndarray) -> np.ndarray:
    """Mean entropy (nats) of each head's attention rows: [layers, heads]. 0 means every token looks
    at a single token; log(T) would be uniform over T tokens (a causal row i can reach log(i + 1))."""
    p = weights.astype(np.float32)
    terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1).mean(axis=-1)
