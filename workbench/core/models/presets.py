"""Named model sizes, from a model that trains in seconds on a laptop to GPT-2 small.

`approx_params` is the GPT-2 count with the preset's `vocab_size` (a 65-character vocabulary, like
Shakespeare's, for all but gpt2-124m); the exact count for any spec and tokenizer comes from
`estimates.estimate`. A BPE vocabulary adds about vocab_size x n_embd parameters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import Arch, ModelSpec


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    arch: Arch
    n_layer: int
    n_head: int
    n_embd: int
    block_size: int
    approx_params: int
    vocab_size: int = 65  # the vocabulary approx_params was counted with


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("nano", "0.1M parameters: a smoke test, trains in seconds on any CPU",
           "gpt2", 2, 2, 64, 64, 108_000),
    Preset("micro", "0.35M parameters: quick experiments on a laptop CPU",
           "gpt2", 3, 3, 96, 64, 348_000),
    Preset("tiny", "0.8M parameters (4 layers, 4 heads, 128 dims, context 64): the known good small "
           "CPU model, learns Shakespeare's style in minutes", "gpt2", 4, 4, 128, 64, 809_000),
    Preset("small", "10.7M parameters (6 layers, 384 dims, context 256): nanoGPT's Shakespeare model; "
           "a strong CPU, or a GPU", "gpt2", 6, 6, 384, 256, 10_770_000),
    Preset("medium", "25M parameters (8 layers, 512 dims, context 512): a GPU model",
           "gpt2", 8, 8, 512, 512, 25_500_000),
    Preset("gpt2-124m", "GPT-2 small (12 layers, 12 heads, 768 dims, context 1024): 124M parameters "
           "with GPT-2's 50257-token vocabulary; a GPU model", "gpt2", 12, 12, 768, 1024,
           124_439_808, vocab_size=50257),
)}


def apply_preset(spec: ModelSpec, name: str) -> ModelSpec:
    """The spec with the preset's sizes; the architecture, dropout and vocabulary stay the spec's."""
    preset = PRESETS.get(name)
    if preset is None:
        raise InvalidSpecError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    kv = spec.n_kv_head if spec.n_kv_head and preset.n_head % spec.n_kv_head == 0 else None
    return dataclasses.replace(spec, n_layer=preset.n_layer, n_head=preset.n_head, n_kv_head=kv,
                               n_embd=preset.n_embd, block_size=preset.block_size)
