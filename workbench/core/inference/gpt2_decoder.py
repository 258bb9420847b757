"""A lean KV-cached forward pass over GPT-2 weights, for sampling one token at a time.

Why: at the sizes trained here (4 layers, 128 dims) one token costs well under a millisecond of
arithmetic, and `GPT2LMHeadModel.forward` spends more than that in Python (module calls, config
look-ups, mask building, `DynamicCache` bookkeeping). Reading the same parameter tensors and
running the same torch ops in the same order gives the same logits in a fraction of the time, bit
for bit with the "gelu" activation (the one models trained here use). OpenAI's "gelu_new" runs as
PyTorch's tanh-GELU kernel rather than transformers' Python formula of it: logits then agree within
float rounding (4e-6 at 12 layers / 768 dims), so greedy text equals transformers' `generate`
unless two tokens tie to within that.

At GPT-2 small's size a token is mostly the time its weights take to come from memory: on the
CPU, one-token steps multiply by a copy of the bigger weights cut into blocks of outputs, which
streams ~1.3x faster than the general matrix product (`column_blocks`); their logits then agree
with the model's within float rounding rather than bit for bit. The copy is a snapshot taken at
the first one-token step of a generation (and kept for the next one while frozen weights do not
change); the prompt, several tokens at once, reads the parameters themselves, so the first token
does not wait for the copy (0.3 s for GPT-2 small the first time).

The keys and values live in one buffer per layer sized for the whole context and are written in
place, where `DynamicCache` concatenates (a copy of the whole cache per token and layer).

Used for `GPT2LMHeadModel` (the options `from_gpt2_config` accepts) and the lean training GPT,
which has the same parameter names; anything else, or a call that captures attention through
hooks, goes through the model itself (`models.CachedCausalLM`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.inference import column_blocks
from workbench.core.inference.column_blocks import BlockedLinear, with_blocks
from workbench.core.models.lean_gpt import GELU_APPROXIMATION, LeanGPT, from_gpt2_config


@dataclass(frozen=True)
class _Layer:
    ln_1: tuple[torch.Tensor, torch.Tensor, float]  # weight, bias, eps
    attn: BlockedLinear  # the Conv1D layers, weights [in, out]
    proj: BlockedLinear
    ln_2: tuple[torch.Tensor, torch.Tensor, float]
    fc: BlockedLinear
    out: BlockedLinear
    act: Callable[[torch.Tensor], torch.Tensor]


def _norm(module: Any) -> tuple[torch.Tensor, torch.Tensor, float]:
    return module.weight, module.bias, float(module.eps)


def _activation(model: Any, block: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """F.gelu with the model's approximation. For "gelu_new", transformers runs a Python formula of
    the tanh approximation (8 tensor ops); PyTorch's one kernel computes the same function, as the
    app's own GPT does, within float rounding, and saves ~1 ms a token at 12 layers / 768 dims."""
    if isinstance(model, LeanGPT):
        return functools.partial(F.gelu, approximate=block.mlp.approximate)
    return functools.partial(F.gelu, approximate=GELU_APPROXIMATION[model.config.activation_function])


def _conv1d(module: Any) -> BlockedLinear:
    return column_blocks.conv1d(module.weight, module.bias)


def _hooked(model: nn.Module) -> bool:
    """Whether something listens to the model's calls (an analysis tool, a test): then the model
    itself must run, or the hooks would silently miss every token."""
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def supports(model: nn.Module) -> bool:
    """Whether `GPT2Decoder` computes exactly what `model` does."""
    config: Any = getattr(model, "config", None)
    if _hooked(model):
        return False
    if isinstance(model, LeanGPT):
        return True
    if type(model).__name__ != "GPT2LMHeadModel":
        return False
    return (from_gpt2_config(config) is not None
            and not getattr(config, "reorder_and_upcast_attn", False)
            and getattr(config, "n_head", 0) > 0 and config.n_embd % config.n_head == 0)


class KVCache:
    """Keys and values [layers, 1, heads, context, head size] and how many positions hold some."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        self.keys, self.values = keys, values
        self.length = 0

    def get_seq_length(self) -> int:  # the name transformers' caches use
        return self.length


class GPT2Decoder:
    """`forward(ids, cache)` appends `ids` after what `cache` holds and returns the next token's
    float32 logits. Only the first call on a new cache may pass several ids (the prompt): later
    calls pass one token, which attends to everything before it."""

    def __init__(self, model: Any, block_size: int) -> None:  # a model `supports` accepts
        trunk = model.transformer
        self.wte: torch.Tensor = trunk.wte.weight
        self.wpe: torch.Tensor = trunk.wpe.weight
        self.ln_f = _norm(trunk.ln_f)
        with torch.inference_mode():
            # [vocab, C], the same tensor as wte in most models
            self.head = column_blocks.linear(model.lm_head.weight)
            self.layers = [_Layer(_norm(b.ln_1), _conv1d(b.attn.c_attn), _conv1d(b.attn.c_proj),
                                  _norm(b.ln_2), _conv1d(b.mlp.c_fc), _conv1d(b.mlp.c_proj), _activation(model, b))
                           for b in trunk.h]
        self.blocked = False  # whether one-token steps have their blocks yet
        self.n_embd = int(self.wte.shape[1])
        self.n_head = int(model.config.n_head)
        self.block_size = min(block_size, int(self.wpe.shape[0]))
        self.scale = (self.n_embd // self.n_head) ** -0.5  # as HF passes it (not SDPA's own default)

    def new_cache(self) -> KVCache:
        shape = (len(self.layers), 1, self.n_head, self.block_size, self.n_embd // self.n_head)
        with torch.inference_mode():  # inference tensors: no version counting on the in-place writes
            keys = torch.empty(shape, dtype=self.wte.dtype, device=self.wte.device)
            return KVCache(keys, torch.empty_like(keys))

    def forward(self, ids: list[int], cache: KVCache) -> torch.Tensor:
        start, count = cache.length, len(ids)
        if count > 1 and start > 0:
            raise ValueError("several tokens can only be fed into an empty cache")
        if start + count > self.block_size:
            raise ValueError(f"{start + count} tokens do not fit the context of {self.block_size}")
        if count == 1 and not self.blocked:
            self._cut_blocks()
        with torch.inference_mode():
            ids_t = torch.tensor(ids, dtype=torch.long, device=self.wte.device)
            x = F.embedding(ids_t, self.wte) + self.wpe[start:start + count]  # (T, C)
            for index, layer in enumerate(self.layers):
                x = self._block(x, layer, cache.keys[index], cache.values[index], start, count)
            cache.length = start + count
            last = torch.layer_norm(x[-1:], (self.n_embd,), *self.ln_f)
            return self.head(last)[0].float()

    def _cut_blocks(self) -> None:
        self.head = column_blocks.with_blocks(self.head)
        self.layers = [replace(layer, attn=with_blocks(layer.attn), proj=with_blocks(layer.proj),
                               fc=with_blocks(layer.fc), out=with_blocks(layer.out))
                       for layer in self.layers]
        self.blocked = True

    def _block(self, x: torch.Tensor, layer: _Layer, keys: torch.Tensor, values: torch.Tensor, start: int,
               count: int) -> torch.Tensor:
        # torch.layer_norm and unbind rather than F.layer_norm and split: the same kernels and
        # views without their Python wrappers, which cost ~1 ms a token at 12 layers.
        C, H = self.n_embd, self.n_head
        h = torch.layer_norm(x, (C,), *layer.ln_1)
        qkv = layer.attn(h).view(1, count, 3, H, C // H)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (1, H, T, hs)
        end = start + count
        keys.narrow(2, start, count).copy_(k)
        values.narrow(2, start, count).copy_(v)
        # One new token attends to the whole cache; a prompt (into an empty cache) causally.
        y = F.scaled_dot_product_attention(q, keys[:, :, :end], values[:, :, :end],
                                           is_causal=count > 1, scale=self.scale)
        x = x + layer.proj(y.transpose(1, 2).reshape(count, C))
        h = torch.layer_norm(x, (C,), *layer.ln_2)
        return x + layer.out(layer.act(layer.fc(h)))
