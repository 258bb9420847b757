"""A lean GPT-2 for training, nanoGPT style, whose weights map one to one onto Hugging Face's.

Why not train `transformers.GPT2LMHeadModel` directly: at the sizes people train on a laptop CPU
(4 layers, 128 dims) the per-layer Python overhead of the general-purpose model costs about a
quarter of the step time (DESIGN.md section 9). This module keeps the parameter names AND shapes
of `GPT2LMHeadModel` (`transformer.h.0.attn.c_attn.weight` in Conv1D layout [in, out], tied
`lm_head.weight`), so `GPT2LMHeadModel(config).load_state_dict(lean.state_dict())` works strictly,
export stays Hugging Face compatible, and generation / attention use the HF model.

Speed choices (measured on the 2-core dev machine; figures in the modeling report):
- one fused qkv projection split nanoGPT's way (its backward is a cheap `cat`; permute + unbind
  costs a strided copy), `F.scaled_dot_product_attention(is_causal=True)` (flash kernel on CPU);
- no dropout modules: `F.dropout` only runs when p > 0;
- Conv1D layers as one `torch.addmm(bias, x2d, weight)` on the [in, out] weight, like HF;
- the activation follows the HF config: OpenAI's checkpoints use "gelu_new" (tanh approximation)
  and keep it when fine-tuned, but models trained from scratch here use "gelu" (exact erf GELU),
  which `GPT2LMHeadModel` supports natively: PyTorch's CPU tanh-GELU kernel is about 4x slower than
  the exact one and cost ~8% of a training step at 4 layers / 128 dims.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPT2Config

from workbench.core.models.init_weights import fan_in_init


@dataclass
class LeanGPTConfig:
    vocab_size: int
    block_size: int = 64  # = n_positions
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    tie_embeddings: bool = True
    layer_norm_epsilon: float = 1e-5
    activation: str = "gelu"  # HF activation_function: "gelu" (exact) or "gelu_new" (tanh approximation)


# HF activation_function -> F.gelu's `approximate`; "gelu_pytorch_tanh" is the same function as "gelu_new"
GELU_APPROXIMATION = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}


@dataclass
class LMOutput:
    """What HF causal LMs return, reduced to the two fields we use."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None


class Conv1D(nn.Module):
    """A linear layer with its weight stored [in, out] (HF's GPT-2 layout)."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight)  # (B*T, out)
        return out.view(*x.shape[:-1], out.shape[-1])


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: LeanGPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.n_embd = cfg.n_embd
        self.dropout = cfg.dropout
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, nh, T, hs)
        y = self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return F.dropout(y, p, True) if p > 0 else y


class MLP(nn.Module):
    def __init__(self, cfg: LeanGPTConfig):
        super().__init__()
        self.dropout = cfg.dropout
        self.approximate = GELU_APPROXIMATION[cfg.activation]
        self.c_fc = Conv1D(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = Conv1D(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.c_proj(F.gelu(self.c_fc(x), approximate=self.approximate))  # (B, T, 4C) inside
        return F.dropout(y, self.dropout, True) if self.training and self.dropout > 0 else y


class Block(nn.Module):
    def __init__(self, cfg: LeanGPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Trunk(nn.Module):
    """GPT2Model's parameters under its names (`wte`, `wpe`, `h`, `ln_f`); typed attributes where
    an `nn.ModuleDict` would give every entry the type `Tensor | Module`."""

    def __init__(self, cfg: LeanGPTConfig):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)


class LeanGPT(nn.Module):
    """GPT-2 with `GPT2LMHeadModel`'s parameter names; `forward` follows HF's calling convention."""

    def __init__(self, cfg: LeanGPTConfig):
        super().__init__()
        self.config = cfg
        self.transformer = Trunk(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.transformer.wte.weight
        self.apply(self._init_weights)
        fan_in_init(self, cfg.n_layer, blocks=".h.")  # see model_init: not GPT-2's fixed 0.02

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, Conv1D, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            bias = getattr(module, "bias", None)  # nn.Embedding has none
            if bias is not None:
                nn.init.zeros_(bias)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                targets: torch.Tensor | None = None) -> LMOutput:
        """`labels` as in HF (aligned with input_ids, shifted here, -100 ignored);
        `targets` nanoGPT style (already shifted, same shape as input_ids), which avoids a copy."""
        seq_len = input_ids.shape[1]
        if seq_len > self.config.block_size:
            raise ValueError(f"sequence of length {seq_len} is longer than the context {self.config.block_size}")
        pos = torch.arange(seq_len, dtype=torch.long, device=input_ids.device)
        x = self.transformer.wte(input_ids) + self.transformer.wpe(pos)  # (B, T, C)
        if self.training and self.config.dropout > 0:
            x = F.dropout(x, self.config.dropout, True)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
        elif labels is not None:
            shifted = logits[:, :-1, :].reshape(-1, logits.size(-1))
            loss = F.cross_entropy(shifted, labels[:, 1:].reshape(-1), ignore_index=-100)
        return LMOutput(logits=logits, loss=loss)

    def load_hf_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load GPT-2 weights saved by Hugging Face (any of its historical key layouts), strictly."""
        clean = {}
        for key, value in state.items():
            if key.endswith((".attn.bias", ".attn.masked_bias")):
                continue  # causal-mask buffers of older transformers versions, not weights
            if not key.startswith(("transformer.", "lm_head.")):
                key = "transformer." + key  # checkpoints saved from GPT2Model have no prefix
            clean[key] = value
        if self.config.tie_embeddings:
            clean.pop("lm_head.weight", None)  # the same tensor as wte; loaded through it
        missing, unexpected = self.load_state_dict(clean, strict=False)
        allowed = {"lm_head.weight"} if self.config.tie_embeddings else set()
        if set(missing) - allowed or unexpected:
            raise KeyError(f"GPT-2 weights do not match: missing {sorted(set(missing) - allowed)}, "
                           f"unexpected {sorted(unexpected)}")


def to_gpt2_config(cfg: LeanGPTConfig) -> GPT2Config:
    """The Hugging Face config under which this model's weights load into `GPT2LMHeadModel`."""
    return GPT2Config(
        vocab_size=cfg.vocab_size, n_positions=cfg.block_size, n_embd=cfg.n_embd, n_layer=cfg.n_layer,
        n_head=cfg.n_head, activation_function=cfg.activation, layer_norm_epsilon=cfg.layer_norm_epsilon,
        resid_pdrop=cfg.dropout, embd_pdrop=cfg.dropout, attn_pdrop=cfg.dropout,
        tie_word_embeddings=cfg.tie_embeddings,
        # our tokenizers number their special tokens themselves; GPT-2's 50256 may not even exist
        bos_token_id=None, eos_token_id=None, architectures=["GPT2LMHeadModel"],
    )


def from_gpt2_config(config: GPT2Config) -> LeanGPTConfig | None:
    """The lean equivalent of an HF GPT-2 config, or None when it uses an option we do not implement
    (then the caller trains `GPT2LMHeadModel` itself)."""
    n_inner = getattr(config, "n_inner", None)
    if (config.activation_function not in GELU_APPROXIMATION
            or not getattr(config, "scale_attn_weights", True)
            or getattr(config, "scale_attn_by_inverse_layer_idx", False)
            or getattr(config, "add_cross_attention", False)
            or n_inner not in (None, 4 * config.n_embd)):
        return None
    return LeanGPTConfig(
        vocab_size=config.vocab_size, block_size=config.n_positions, n_layer=config.n_layer,
        n_head=config.n_head, n_embd=config.n_embd, dropout=float(config.resid_pdrop),
        tie_embeddings=bool(getattr(config, "tie_word_embeddings", True)),
        layer_norm_epsilon=config.layer_norm_epsilon, activation=config.activation_function,
    )
