"""Reading attention weights out of Hugging Face models, one layer at a time.

Three facts shape this module (DESIGN.md section 9):
- transformers 5.x with SDPA returns no attention weights at all, silently. Only the "eager"
  implementation computes them, so we switch to it for the duration of a read and switch back.
- `output_attentions=True` keeps every layer's fp32 [heads, T, T] tensor until the forward pass
  ends (12 layers x 12 heads x 1024^2 x 4 bytes = 600 MB). A forward hook on each attention module
  instead hands each layer's weights to a callback as soon as they exist; the callback keeps a
  float16 copy and the layer's tensor is freed when the layer returns.
- Eager attention itself holds two or three fp32 [heads, T, T] score tensors at once (150 MB at
  1024 tokens). So we register one more implementation, "workbench_rows": the model's OWN eager
  function (same maths, same masks), called on blocks of query rows, whose weights are written
  into one float16 tensor. Softmax is per row, so the result is the same as eager's.

Every HF attention module in the supported families returns `(attn_output, attn_weights, ...)`;
the model declares which classes those are in `_can_record_outputs["attentions"]`. The lean GPT
the trainer uses (`workbench.core.models.lean_gpt`, SDPA only) is read by recomputing softmax(QK^T) from
its attention input in the hook, so snapshots during training need no conversion.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeGuard

import torch
from torch import nn

from workbench.core.base.errors import WorkbenchError

if TYPE_CHECKING:  # types only: importing them here would load transformers with this module
    from transformers import PreTrainedModel

    from workbench.core.models.lean_gpt import CausalSelfAttention


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DistributedDataParallel and torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def place_model(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """Move `model` to `device` when one is asked for; return the device its inputs must go to."""
    if device is not None:
        model.to(device)
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device(device or "cpu")


def is_hf_model(model: nn.Module) -> TypeGuard[PreTrainedModel]:
    return hasattr(model, "config") and hasattr(model, "set_attn_implementation")


def _is_lean_attention(module: nn.Module) -> bool:
    return hasattr(module, "c_attn") and isinstance(getattr(module, "n_head", None), int)


def has_attention(model: nn.Module) -> bool:
    model = unwrap(model)
    return is_hf_model(model) or any(_is_lean_attention(m) for m in model.modules())


def attention_modules(model: nn.Module) -> list[nn.Module]:
    """The self-attention modules of an HF model or the lean GPT, in layer order."""
    if not is_hf_model(model):
        found = [m for m in model.modules() if _is_lean_attention(m)]
        if not found:
            raise WorkbenchError(f"{type(model).__name__} has no attention layers (an LSTM has none); "
                                 "attention maps need a GPT-2, Llama or BERT model")
        return found
    recorder = None
    for sub in model.modules():
        recorder = (getattr(sub, "_can_record_outputs", None) or {}).get("attentions")
        if recorder is not None:
            break
    if recorder is None:
        raise WorkbenchError(f"{type(model).__name__} does not expose attention weights; "
                             "attention maps need a GPT-2, Llama or BERT model")
    target = getattr(recorder, "target_class", recorder)
    layer_name = getattr(recorder, "layer_name", None)  # GPT-2: ".attn" (not ".crossattention")
    found = [m for name, m in model.named_modules()
             if isinstance(m, target) and (layer_name is None or name.endswith(layer_name))]
    if not found:
        raise WorkbenchError(f"no attention layers found in {type(model).__name__}")
    return found


ROWS_IMPLEMENTATION = "workbench_rows"
ROW_BLOCK_ELEMENTS = 1 << 20  # fp32 scores computed at once per block of query rows (4 MB)


def _eager_by_rows(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                   attention_mask: torch.Tensor | None, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The model family's `eager_attention_forward` on blocks of query rows [B, H, rows, d]."""
    eager = sys.modules[type(module).__module__].eager_attention_forward
    batch, heads, length = query.shape[:3]
    keys = key.shape[-2]
    rows = max(1, ROW_BLOCK_ELEMENTS // (batch * heads * keys))
    if rows >= length:
        output, weights = eager(module, query, key, value, attention_mask, *args, **kwargs)
        return output, weights.to(torch.float16)
    weights = torch.empty((batch, heads, length, keys), dtype=torch.float16, device=query.device)
    outputs = []
    for start in range(0, length, rows):
        mask = attention_mask
        if mask is not None and mask.shape[-2] == length:
            mask = mask[..., start:start + rows, :]
        output, block = eager(module, query[:, :, start:start + rows], key, value, mask, *args, **kwargs)
        outputs.append(output)  # [B, rows, H, d]: eager returns the output transposed
        weights[:, :, start:start + rows] = block
    return torch.cat(outputs, dim=1), weights


def _weights_implementation(model: nn.Module) -> str:
    """"workbench_rows" where the model family has an eager function to wrap, else "eager"."""
    modules = {type(m).__module__ for m in attention_modules(model)}
    if not all(hasattr(sys.modules[name], "eager_attention_forward") for name in modules):
        return "eager"
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, eager_mask

        AttentionInterface.register(ROWS_IMPLEMENTATION, _eager_by_rows)
        AttentionMaskInterface.register(ROWS_IMPLEMENTATION, eager_mask)  # eager's additive float mask
    except (ImportError, AttributeError):
        return "eager"
    return ROWS_IMPLEMENTATION


@contextmanager
def eager_attention(model: nn.Module) -> Iterator[None]:
    """Run the block with an attention implementation that computes weights, then restore."""
    if not is_hf_model(model):
        yield
        return
    previous = model.config._attn_implementation
    wanted = _weights_implementation(model)
    if previous != wanted:
        model.set_attn_implementation(wanted)
    try:
        yield
    finally:
        if previous != wanted and previous is not None:
            model.set_attn_implementation(previous)


@contextmanager
def attention_hooks(model: nn.Module, on_layer: Callable[[int, torch.Tensor], None]) -> Iterator[None]:
    """Call `on_layer(layer_index, weights[batch, heads, queries, keys])` for each layer's weights
    during forward passes inside the block. Use together with `eager_attention`."""
    handles = []
    hf = is_hf_model(model)
    for index, module in enumerate(attention_modules(model)):
        def hook(module, inputs, output, index=index):
            if hf:
                weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            else:
                weights = _lean_weights(module, inputs[0])
            if weights is None:
                raise WorkbenchError("the model returned no attention weights (is eager attention on?)")
            on_layer(index, weights.detach())
        handles.append(module.register_forward_hook(hook))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _lean_weights(module: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) with the causal mask, from the lean attention's input x [B, T, C]."""
    batch, length, width = x.shape
    head_dim = width // module.n_head
    qkv = module.c_attn(x).view(batch, length, 3, module.n_head, head_dim).permute(2, 0, 3, 1, 4)
    scores = (qkv[0] @ qkv[1].transpose(-1, -2)).float() * head_dim ** -0.5
    future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
    return scores.masked_fill_(future, float("-inf")).softmax(-1)
