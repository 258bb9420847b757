"""One-row matrix products over weights cut into blocks of outputs: the decode step's matmuls on a CPU.

Why: decoding one token multiplies one row by every weight matrix, so a step costs about the time
the weights take to come from memory. `torch.addmm(bias, row, W)` (BLAS' general product, which
transformers' Conv1D runs too) reads GPT-2 small's weights at ~11 GB/s on one core of the
development machine, where merely reading the same bytes (`W.sum()`) goes at 17-20 GB/s. Stored
as [outputs/128, 128, in] (128 outputs a block, each a contiguous run of rows of the weight
transposed) and multiplied as one batched `torch.baddbmm`, the same product streams ~1.3x faster
on one thread (`bench/bench_blocks.py` prints all three). Each output is then a dot product summed
in another order than BLAS' row-times-matrix, so logits agree with `addmm`'s within float rounding
(~1e-6), not bit for bit; blocks of 32 columns kept the bits but gained only about half as much
(in `bench/bench_generate.py`, 1.19-1.33x against 1.38-1.48x for transformers' `generate`).

The blocks are a copy of the weight (its size again; ~0.3 s for GPT-2 small's 124M weights), so
they are made only on the CPU, for weights too big to stay in the cache between tokens (smaller
ones are read from cache at full speed either way). Blocks of a frozen weight (requires_grad off,
as `load_model_dir` leaves inference models) are kept for the next generation while the weight is
alive and its version counter, which in-place writes such as `load_state_dict` bump, has not
moved. A trainable weight gets new blocks every generation: an optimizer may write it without
bumping the counter (CPU fused AdamW does), and stale blocks would sample from old weights.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

BLOCK = 128  # outputs per block; 32 and 64 measured a little slower
MIN_WEIGHTS = 1 << 18  # 1 MB of float32: smaller weights stay in the L2/L3 cache between tokens


@dataclass(frozen=True)
class BlockedLinear:
    """A linear layer: `x @ weight + bias` for a Conv1D weight [in, out] (`conv1d`), or
    `F.linear(x, weight, bias)` for a weight [out, in] (the tied embedding as the head). One-row
    inputs go through `blocks` when there are any; longer inputs (a prompt) through the weight."""

    weight: torch.Tensor
    bias: torch.Tensor | None  # always one for Conv1D
    conv1d: bool
    blocks: torch.Tensor | None = None  # [ceil(out/BLOCK), BLOCK, in], zeros past the last output
    block_bias: torch.Tensor | None = None  # [ceil(out/BLOCK), BLOCK, 1]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # x: (T, in)
        if self.blocks is None or self.block_bias is None or x.shape[0] != 1:
            if not self.conv1d:
                return F.linear(x, self.weight, self.bias)
            assert self.bias is not None  # `conv1d` always gives one
            return torch.addmm(self.bias, x, self.weight)
        column = x.t().expand(self.blocks.shape[0], -1, 1)
        outputs = torch.baddbmm(self.block_bias, self.blocks, column).view(1, -1)
        return outputs[:, :self.out_features] if outputs.shape[1] != self.out_features else outputs

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[1] if self.conv1d else self.weight.shape[0])


def worth_blocking(weight: torch.Tensor) -> bool:
    return (weight.device.type == "cpu" and weight.dtype == torch.float32 and weight.dim() == 2
            and weight.numel() >= MIN_WEIGHTS)


def conv1d(weight: torch.Tensor, bias: torch.Tensor) -> BlockedLinear:
    """A Conv1D layer (weight [in, out]), without blocks yet."""
    return BlockedLinear(weight, bias, conv1d=True)


def linear(weight: torch.Tensor, bias: torch.Tensor | None = None) -> BlockedLinear:
    """An `nn.Linear`-style layer (weight [out, in]), without blocks yet."""
    return BlockedLinear(weight, bias, conv1d=False)


def with_blocks(plain: BlockedLinear) -> BlockedLinear:
    """The layer with blocks when its weight is `worth_blocking`, else as it is."""
    if plain.blocks is not None or not worth_blocking(plain.weight):
        return plain
    with torch.inference_mode():
        blocks = _kept_blocks(plain.weight, plain.conv1d)
        bias = torch.zeros(blocks.shape[0] * BLOCK, dtype=blocks.dtype, device=blocks.device)
        if plain.bias is not None:
            bias[:plain.out_features] = plain.bias.detach()
        return BlockedLinear(plain.weight, plain.bias, plain.conv1d, blocks, bias.view(-1, BLOCK, 1))


def _cut(weight: torch.Tensor, conv1d: bool) -> torch.Tensor:
    rows = weight.detach().t() if conv1d else weight.detach()  # [out, in]
    count = -(-rows.shape[0] // BLOCK)
    blocks = torch.zeros((count * BLOCK, rows.shape[1]), dtype=rows.dtype, device=rows.device)
    blocks[:rows.shape[0]] = rows
    return blocks.view(count, BLOCK, rows.shape[1])


# Side-by-side columns may sample one model in several threads. Reentrant: a weight freed while
# the lock is held calls `_forget` in the same thread.
_lock = threading.RLock()
_kept: dict[int, tuple[weakref.ref[torch.Tensor], tuple[Any, ...], torch.Tensor]] = {}


def _stamp(weight: torch.Tensor, conv1d: bool) -> tuple[Any, ...] | None:
    """What changes when a frozen weight does: `_version` counts in-place writes (the counter
    autograd checks), data_ptr catches `param.data = ...`. None, and the blocks are not kept, for a
    trainable weight and for a tensor made under inference mode, which has no version counter."""
    if weight.requires_grad:
        return None  # may change without its version counter moving (see the module docstring)
    try:
        version = weight._version
    except RuntimeError:
        return None
    return version, weight.data_ptr(), tuple(weight.shape), weight.dtype, weight.device, conv1d


def _kept_blocks(weight: torch.Tensor, conv1d: bool) -> torch.Tensor:
    key, stamp = id(weight), _stamp(weight, conv1d)
    if stamp is None:
        return _cut(weight, conv1d)
    with _lock:
        entry = _kept.get(key)
        if entry is not None and entry[0]() is weight and entry[1] == stamp:
            return entry[2]
    blocks = _cut(weight, conv1d)
    with _lock:
        _kept[key] = (weakref.ref(weight, functools.partial(_forget, key)), stamp, blocks)
    return blocks


def _forget(key: int, gone: weakref.ref[torch.Tensor]) -> None:
    with _lock:
        if key in _kept and _kept[key][0] is gone:
            del _kept[key]


def has_kept(weight_id: int) -> bool:
    """Whether blocks are kept for the weight whose `id()` this is (for tests)."""
    with _lock:
        return weight_id in _kept
