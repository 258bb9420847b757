"""Optimizer pieces of the training loop: one optimizer step, and the optimizer state to and from files.

`make_optimizer` builds AdamW (decay on matrices only, fused where possible).

The optimizer state is saved without pickle: its tensors go to safetensors under flat names
(`state.<param index>.<key>`) and the rest (param groups, scalars) to JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch

from workbench.core.base.specs import TrainSpec
from workbench.core.training.flat_params import FlatParameters


def make_optimizer(model: torch.nn.Module, train: TrainSpec,
                   flat: FlatParameters | None = None) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not biases, norms); the fused kernel where torch has
    one for the device (measured on CPU: about 7% more tokens/s than the default implementation).
    With `flat` (the model's packed parameters) it updates one flat tensor per group."""
    if flat is not None:
        groups = flat.optimizer_groups()
    else:
        params = [p for p in model.parameters() if p.requires_grad]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": train.weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    betas = (train.beta1, train.beta2)
    try:
        return torch.optim.AdamW(groups, lr=train.lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device / dtype
        return torch.optim.AdamW(groups, lr=train.lr, betas=betas, foreach=True)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def accumulate_gradients(
    model: torch.nn.Module,
    micro_batches: Iterable[torch.Tensor],
    loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    *,
    accum: int,
    autocast: Callable[[], AbstractContextManager] = nullcontext,
    scaler: torch.amp.GradScaler | None = None,
) -> float:
    """Forward and backward over `accum` micro-batches; returns their mean loss (a Python float).

    Each micro-batch's loss is divided by `accum`, so the summed gradient equals the gradient of the
    mean loss over the whole effective batch.
    """
    total = None
    for ids in micro_batches:
        with autocast():
            loss = loss_fn(model, ids) / accum
        if scaler is not None and scaler.is_enabled():
            scaler.scale(loss).backward()
        else:
            loss.backward()
        total = loss.detach() if total is None else total + loss.detach()
    assert total is not None, "no micro-batches"
    return float(total)


def clip_gradients(model: torch.nn.Module, max_norm: float, *, optimizer: torch.optim.Optimizer | None = None,
                   scaler: torch.amp.GradScaler | None = None, flat: FlatParameters | None = None) -> float:
    """Clip the global gradient norm to `max_norm` (0 = no clipping); returns the norm before clipping.

    With an enabled fp16 `scaler`, the gradients of `optimizer` are unscaled first so the norm is real.
    With `flat` (the model's packed parameters) the norm and the scaling are one call each.
    """
    if flat is not None:
        flat.reattach_grads()
    if scaler is not None and scaler.is_enabled() and optimizer is not None:
        scaler.unscale_(optimizer)
    limit = max_norm if max_norm > 0 else math.inf
    if flat is not None:
        return flat.clip_(limit)
    params = [p for p in model.parameters() if p.grad is not None]
    if not params:
        return 0.0
    norm = torch.nn.utils.clip_grad_norm_(params, limit, foreach=True)
    return float(norm)


def zero_gradients(optimizer: torch.optim.Optimizer, flat: FlatParameters | None = None) -> None:
    """Clear the gradients for the next step: zero the packed buffer, or drop the per-tensor ones."""
    if flat is not None:
        flat.zero_grad()
    else:
        optimizer.zero_grad(set_to_none=True)


def optimizer_state_to_files(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split `optimizer.state_dict()` into flat tensors (for safetensors) and JSON-friendly rest."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in state["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_state_from_files(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `optimizer_state_to_files`: a dict for `optimizer.load_state_dict`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    for index, entries in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entries)
    groups = []
    for group in meta["param_groups"]:
        group = dict(group)
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}
