"""Batches for training: random windows of `block_size + 1` tokens from a token array (memmap).

The sampler draws window starts from its own seeded numpy generator, so the data position of a run
is that generator's state: saved in a checkpoint as JSON, restored on resume, and the resumed run
sees exactly the batches the uninterrupted one would have seen. Evaluation uses a fixed set of
windows drawn once from the seed, the same at every evaluation, so validation losses compare.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import InvalidSpecError


def check_long_enough(data: np.ndarray, block_size: int, split: str) -> None:
    if len(data) < block_size + 1:
        raise InvalidSpecError(
            f"the {split} split has {len(data)} tokens, fewer than one window of --block-size + 1 = "
            f"{block_size + 1}; use a smaller --block-size or import more text")


def windows_at(data: np.ndarray, starts: np.ndarray, block_size: int) -> np.ndarray:
    """Rows data[s : s + block_size + 1] for each start, as int64 [len(starts), block_size + 1]."""
    index = starts[:, None] + np.arange(block_size + 1)[None, :]
    return np.asarray(data[index], dtype=np.int64)


class BatchSampler:
    """Seeded random windows; `state()` / `set_state()` carry the position across a resume."""

    def __init__(self, data: np.ndarray, block_size: int, batch_size: int, seed: int) -> None:
        check_long_enough(data, block_size, "training")
        self.data = data
        self.block_size = block_size
        self.batch_size = batch_size
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.drawn = 0  # batches drawn so far (informative: the generator state is what resumes)

    def next_batch(self) -> np.ndarray:
        last_start = len(self.data) - (self.block_size + 1)
        starts = self.rng.integers(0, last_start + 1, size=self.batch_size)
        self.drawn += 1
        return windows_at(self.data, starts, self.block_size)

    def state(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state, "drawn": self.drawn}

    def set_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]
        self.drawn = int(state.get("drawn", 0))


def fixed_windows(data: np.ndarray, block_size: int, count: int, seed: int) -> np.ndarray:
    """`count` windows chosen once from `seed` (evenly spread when the data is short)."""
    check_long_enough(data, block_size, "validation")
    last_start = len(data) - (block_size + 1)
    rng = np.random.Generator(np.random.PCG64(seed))
    if last_start + 1 <= count:
        starts = np.linspace(0, last_start, num=count).astype(np.int64)
    else:
        starts = rng.choice(last_start + 1, size=count, replace=False)
    return windows_at(data, np.sort(starts), block_size)
