"""What to say after an out-of-memory error on an accelerator: a batch size that does fit.

Estimates miss allocator fragmentation and kernel workspaces, so the batch is measured instead:
halve it and try a forward and backward pass until one fits, then suggest that batch size with the
gradient accumulation that keeps the effective batch the same. (A CPU out-of-memory kills the
process and cannot be caught; estimates warn about that before a run.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch


def _release(model: torch.nn.Module, device: torch.device, packed: bool) -> None:
    # Packed gradients (core/training/flat_params) stay allocated in training, so the probe adds into them as
    # a real step does; dropping them would make its backward allocate a second set of gradients.
    model.zero_grad(set_to_none=not packed)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def largest_fitting_batch(model: torch.nn.Module, batch: np.ndarray,
                          loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor], device: torch.device,
                          autocast: Callable[[], AbstractContextManager] = nullcontext,
                          packed: bool = False) -> int | None:
    """The first of len(batch)/2, /4, ... 1 whose forward and backward pass fits; None if none does.
    `packed`: the model's gradients live in a flat buffer that training keeps."""
    size = len(batch) // 2
    while size >= 1:
        _release(model, device, packed)
        try:
            ids = torch.from_numpy(batch[:size]).to(device)
            with autocast():
                loss = loss_fn(model, ids)
            loss.backward()
            return size
        except torch.OutOfMemoryError:
            size //= 2
        finally:
            _release(model, device, packed)
    return None


def out_of_memory_message(model: torch.nn.Module, batch: np.ndarray,
                          loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor], device: torch.device,
                          grad_accum: int, autocast: Callable[[], AbstractContextManager] = nullcontext,
                          packed: bool = False) -> str:
    size = len(batch)
    fits = largest_fitting_batch(model, batch, loss_fn, device, autocast, packed)
    if fits is None:
        return (f"out of memory on {device} even with batch size 1; choose a smaller model (--preset, --n-layer, "
                f"--n-embd) or a shorter --block-size")
    accum = grad_accum * math.ceil(size / fits)
    return (f"out of memory on {device} at batch size {size}; batch size {fits} fits: use --batch-size {fits} "
            f"--grad-accum {accum} to keep an effective batch of about {size * grad_accum} sequences")
