"""One-row matrix products over a weight cut into column blocks: the decode step's matmuls on a CPU.

Why: decoding one token multiplies one row by every weight matrix, so a step costs about the time
the weights take to come from memory. `torch.addmm(bias, row, W)` (BLAS' general product, which
transformers' Conv1D runs too) reads GPT-2 small's weights at ~11-12 GB/s on one core of the
development machine, where merely reading the same bytes (`W.sum()`) goes at 17-20 GB/s. Cut into
blocks of 32 columns, each block stored contiguously ([out/32, in, 32]), the same product as one
batched `torch.baddbmm` streams ~1.25x faster (`bench/bench_blocks.py` prints both). Every output
is still the bias plus the same sum in the same order, so the result is bit for bit `addmm`'s
(tests check it).

The blocks are a copy of the weight (its size again; ~0.25 s for GPT-2 small's 85M weights), so
they are made only on the CPU, for weights too big to stay in the cache between tokens (smaller
ones are read from cache at full speed either way), and kept for the next generation while the
weight is alive and unchanged: every in-place change of a parameter (an optimizer step, loading a
checkpoint) bumps its version counter, and blocks made at another version are made again.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import torch

BLOCK = 32  # columns per block: 128 bytes a row; 16 measured slower, 48 and 64 much slower
MIN_WEIGHTS = 1 << 18  # 1 MB of float32: smaller weights stay in the L2/L3 cache between tokens


@dataclass(frozen=True)
class BlockedLinear:
    """`x @ weight + bias` for a Conv1D weight [in, out]; one-row inputs go through `blocks`
    ([out/BLOCK, in, BLOCK]) when there are any, longer inputs (a prompt) through the weight."""

    weight: torch.Tensor
    bias: torch.Tensor
    blocks: torch.Tensor | None = None
    block_bias: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # x: (T, in)
        if self.blocks is None or self.block_bias is None or x.shape[0] != 1:
            return torch.addmm(self.bias, x, self.weight)
        count = self.blocks.shape[0]
        return torch.baddbmm(self.block_bias, x.expand(count, 1, -1), self.blocks).view(1, -1)


def worth_blocking(weight: torch.Tensor) -> bool:
    return (weight.device.type == "cpu" and weight.dtype == torch.float32 and weight.dim() == 2
            and weight.shape[1] % BLOCK == 0 and weight.numel() >= MIN_WEIGHTS)


def blocked(weight: torch.Tensor, bias: torch.Tensor, enable: bool = True) -> BlockedLinear:
    """The weight and bias, with column blocks when `enable` and `worth_blocking`."""
    if not (enable and worth_blocking(weight)) or bias.shape != weight.shape[1:]:
        return BlockedLinear(weight, bias)
    with torch.inference_mode():
        blocks = _kept_blocks(weight)
        return BlockedLinear(weight, bias, blocks, bias.detach().reshape(blocks.shape[0], 1, BLOCK))


def _cut(weight: torch.Tensor) -> torch.Tensor:
    n_in, n_out = weight.shape
    blocks = torch.empty((n_out // BLOCK, n_in, BLOCK), dtype=weight.dtype, device=weight.device)
    return blocks.copy_(weight.detach().reshape(n_in, n_out // BLOCK, BLOCK).permute(1, 0, 2))


# Side-by-side columns may sample one model in several threads. Reentrant: a weight freed while
# the lock is held calls `_forget` in the same thread.
_lock = threading.RLock()
_kept: dict[int, tuple[weakref.ref[torch.Tensor], tuple[Any, ...], torch.Tensor]] = {}


def _stamp(weight: torch.Tensor) -> tuple[Any, ...] | None:
    """What changes when the weight does: `_version` counts in-place writes (the counter autograd
    checks), data_ptr catches `param.data = ...`. None for a tensor made under inference mode,
    which has no version counter: its blocks are not kept."""
    try:
        version = weight._version
    except RuntimeError:
        return None
    return version, weight.data_ptr(), tuple(weight.shape), weight.dtype, weight.device


def _kept_blocks(weight: torch.Tensor) -> torch.Tensor:
    key, stamp = id(weight), _stamp(weight)
    if stamp is None:
        return _cut(weight)
    with _lock:
        entry = _kept.get(key)
        if entry is not None and entry[0]() is weight and entry[1] == stamp:
            return entry[2]
    blocks = _cut(weight)
    with _lock:
        _kept[key] = (weakref.ref(weight, functools.partial(_forget, key)), stamp, blocks)
    return blocks


def _forget(key: int, gone: weakref.ref[torch.Tensor]) -> None:
    with _lock:
        if key in _kept and _kept[key][0] is gone:
            del _kept[key]


def kept_count() -> int:
    """How many weights have blocks kept (for tests)."""
    with _lock:
        return len(_kept)
