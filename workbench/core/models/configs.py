"""ModelSpec <-> transformers configs for the three Hugging Face architectures (gpt2, llama, bert)."""

from __future__ import annotations

from typing import Any

from transformers import BertConfig, LlamaConfig, PretrainedConfig

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import ModelSpec
from workbench.core.models.lean_gpt import LeanGPTConfig, to_gpt2_config


def llama_intermediate_size(n_embd: int) -> int:
    # SwiGLU has three matrices instead of two, so 8/3*d keeps the MLP near GPT's 4*d parameters;
    # rounded up to a multiple of 32 for matmul-friendly shapes (Llama itself rounds to 256).
    return -(-(8 * n_embd // 3) // 32) * 32


def hf_config(spec: ModelSpec) -> PretrainedConfig:
    """The transformers config of a gpt2 / llama / bert spec."""
    common: dict[str, Any] = dict(vocab_size=spec.vocab_size, tie_word_embeddings=spec.tie_embeddings,
                                  bos_token_id=None, eos_token_id=None, pad_token_id=None,
                                  attn_implementation="sdpa")
    if spec.arch == "gpt2":
        return to_gpt2_config(lean_config(spec))
    if spec.arch == "llama":
        return LlamaConfig(hidden_size=spec.n_embd, intermediate_size=llama_intermediate_size(spec.n_embd),
                           num_hidden_layers=spec.n_layer, num_attention_heads=spec.n_head,
                           num_key_value_heads=spec.n_kv_head or spec.n_head,
                           max_position_embeddings=spec.block_size, attention_bias=spec.bias,
                           mlp_bias=spec.bias, attention_dropout=spec.dropout,
                           architectures=["LlamaForCausalLM"], **common)
    if spec.arch == "bert":
        return BertConfig(hidden_size=spec.n_embd, num_hidden_layers=spec.n_layer,
                          num_attention_heads=spec.n_head, intermediate_size=4 * spec.n_embd,
                          max_position_embeddings=spec.block_size, hidden_dropout_prob=spec.dropout,
                          attention_probs_dropout_prob=spec.dropout, architectures=["BertForMaskedLM"],
                          **common)
    raise InvalidSpecError(f"architecture {spec.arch!r} has no transformers config")


def spec_from_hf_config(config: PretrainedConfig, init_from: str | None = None) -> ModelSpec:
    """Describe a transformers config as a ModelSpec (sizes only; the config stays the truth)."""
    kind = getattr(config, "model_type", "")
    tie = bool(getattr(config, "tie_word_embeddings", True))
    if kind == "gpt2":
        return ModelSpec(arch="gpt2", n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd,
                         block_size=config.n_positions, dropout=float(config.resid_pdrop),
                         vocab_size=config.vocab_size, tie_embeddings=tie, init_from=init_from)
    if kind == "llama":
        kv = config.num_key_value_heads
        return ModelSpec(arch="llama", n_layer=config.num_hidden_layers, n_head=config.num_attention_heads,
                         n_kv_head=None if kv in (None, config.num_attention_heads) else kv,
                         n_embd=config.hidden_size, block_size=config.max_position_embeddings,
                         dropout=float(config.attention_dropout), vocab_size=config.vocab_size,
                         bias=bool(config.attention_bias), tie_embeddings=tie, init_from=init_from)
    if kind == "bert":
        return ModelSpec(arch="bert", n_layer=config.num_hidden_layers, n_head=config.num_attention_heads,
                         n_embd=config.hidden_size, block_size=config.max_position_embeddings,
                         dropout=float(config.hidden_dropout_prob), vocab_size=config.vocab_size,
                         tie_embeddings=tie, init_from=init_from)
    raise InvalidSpecError(f"model type {kind!r} is not supported: use a GPT-2, Llama or BERT model")


def lean_config(spec: ModelSpec) -> LeanGPTConfig:
    return LeanGPTConfig(vocab_size=spec.vocab_size, block_size=spec.block_size, n_layer=spec.n_layer,
                         n_head=spec.n_head, n_embd=spec.n_embd, dropout=spec.dropout,
                         tie_embeddings=spec.tie_embeddings)
