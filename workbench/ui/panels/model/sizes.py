"""Parameter counts of a model shape, without torch, for the preset labels.

The estimate counts a spec exactly by building it on the meta device (`core.training.estimates`),
but that needs torch, which the window must not wait for; and a preset label must be right for the
chosen architecture and vocabulary (an LSTM "tiny" has 537k parameters, a GPT-2 "tiny" 810k). These
sums follow the models the core builds; tests/ui/panels/test_model_sizes.py checks them against
`count_params` for every preset and architecture.
"""

from __future__ import annotations

import dataclasses

from workbench.core.base.specs import ModelSpec
from workbench.core.models.presets import Preset


def preset_params(preset: Preset, arch: str, vocab_size: int) -> int:
    """Parameters of `preset`'s sizes built as `arch` with `vocab_size` tokens (other settings default)."""
    spec = dataclasses.replace(ModelSpec(), arch=arch, n_layer=preset.n_layer, n_head=preset.n_head,
                               n_embd=preset.n_embd, block_size=preset.block_size, vocab_size=vocab_size)
    return param_count(spec)


def param_count(spec: ModelSpec) -> int:
    """Unique parameters (tied weights once) of the model `spec` describes, trained from scratch."""
    d, layers, vocab = spec.n_embd, spec.n_layer, spec.vocab_size
    bias = 1 if spec.bias else 0
    untied_head = 0 if spec.tie_embeddings else vocab * d
    if spec.arch == "lstm":  # per layer: input and hidden weights of 4 gates, two bias vectors
        return vocab * d + layers * (8 * d * d + bias * 8 * d) + untied_head
    if spec.arch == "llama":
        return vocab * d + layers * _llama_layer(spec) + d + untied_head  # + the final RMSNorm
    # GPT-2 and BERT blocks: attention (4 d x d), MLP (d -> 4d -> d), with biases, and two LayerNorms
    block = 12 * d * d + 13 * d
    if spec.arch == "bert":  # + token type and embedding LayerNorm; MLM head: dense, LayerNorm, output bias
        embeddings = vocab * d + spec.block_size * d + 2 * d + 2 * d
        head = d * d + d + 2 * d + vocab + (untied_head + vocab if untied_head else 0)  # untied: own bias too
        return embeddings + layers * block + head
    return vocab * d + spec.block_size * d + layers * block + 2 * d + untied_head  # gpt2: + ln_f


def _llama_layer(spec: ModelSpec) -> int:
    d = spec.n_embd
    kv = d * (spec.n_kv_head or spec.n_head) // spec.n_head  # key/value width with grouped-query attention
    # core.models.configs.llama_intermediate_size (that module loads transformers): 8/3 d, up to x32
    hidden = -(-(8 * d // 3) // 32) * 32
    bias = 1 if spec.bias else 0
    attention = 2 * d * d + 2 * d * kv + bias * (2 * d + 2 * kv)
    mlp = 3 * d * hidden + bias * (2 * hidden + d)
    return attention + mlp + 2 * d  # + two RMSNorms
