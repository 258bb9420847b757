"""The training batch sampler: windows without replacement, seeded, and resumable mid-epoch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.core.base.errors import InvalidSpecError
from workbench.core.training.batches import BatchSampler, EveryWindow, fixed_windows

BLOCK, BATCH = 8, 5


def targets_seen(sampler: BatchSampler, batches: int) -> np.ndarray:
    """How often each token of the data was a prediction target in `batches` batches."""
    seen = np.zeros(len(sampler.data), dtype=np.int64)
    for _ in range(batches):
        for row in sampler.next_batch():
            seen[row[1:]] += 1  # the data is arange: a token's value is its position
    return seen


def test_an_epoch_makes_every_token_a_target_once():
    data = np.arange(10_000, dtype=np.int64)
    sampler = BatchSampler(data, BLOCK, 1, seed=3)
    windows = len(sampler._order)
    phase = int(sampler._order.min())
    assert 0 <= phase < BLOCK and windows == (len(data) - BLOCK - 1 - phase) // BLOCK + 1
    seen = targets_seen(sampler, windows)
    span = slice(phase + 1, phase + 1 + windows * BLOCK)
    assert (seen[span] == 1).all() and seen.sum() == windows * BLOCK  # once each, nothing twice
    assert sampler.epoch == 0
    sampler.next_batch()
    assert sampler.epoch == 1


def test_rows_are_consecutive_tokens_and_epochs_change_order():
    data = np.arange(200, dtype=np.int64)
    sampler = BatchSampler(data, BLOCK, BATCH, seed=1)
    first = [sampler.next_batch() for _ in range(30)]  # 200 tokens hold ~23 windows: several epochs
    assert sampler.epoch >= 5
    for batch in first:
        assert batch.shape == (BATCH, BLOCK + 1) and batch.dtype == np.int64
        assert (np.diff(batch, axis=1) == 1).all()
    again = BatchSampler(data, BLOCK, BATCH, seed=1)
    assert all((a == again.next_batch()).all() for a in first)  # the seed decides everything
    other = BatchSampler(data, BLOCK, BATCH, seed=2)
    assert not all((a == other.next_batch()).all() for a in first)


@pytest.mark.parametrize("stop_after", [0, 1, 7, 23, 24, 61])
def test_state_resumes_the_same_batches(stop_after):
    data = np.arange(500, dtype=np.int64)  # 61 windows of 8: epochs end mid-batch
    whole = BatchSampler(data, BLOCK, BATCH, seed=9)
    expected = [whole.next_batch() for _ in range(stop_after + 40)]
    first = BatchSampler(data, BLOCK, BATCH, seed=9)
    for _ in range(stop_after):
        first.next_batch()
    state = json.loads(json.dumps(first.state()))  # as a checkpoint stores it
    resumed = BatchSampler(data, BLOCK, BATCH, seed=12345)  # a resume builds it with any seed
    resumed.set_state(state)
    assert resumed.drawn == stop_after
    for want in expected[stop_after:]:
        assert (resumed.next_batch() == want).all()


def test_a_state_from_the_older_uniform_sampler_still_resumes():
    data = np.arange(500, dtype=np.int64)
    old = {"bit_generator": np.random.Generator(np.random.PCG64(4)).bit_generator.state, "drawn": 12}
    sampler = BatchSampler(data, BLOCK, BATCH, seed=0)
    sampler.set_state(json.loads(json.dumps(old)))
    assert sampler.drawn == 12 and sampler.next_batch().shape == (BATCH, BLOCK + 1)


def test_data_of_exactly_one_window_and_too_little_data():
    data = np.arange(BLOCK + 1, dtype=np.int64)
    batch = BatchSampler(data, BLOCK, BATCH, seed=0).next_batch()
    assert (batch == data).all()  # the one window, repeated to fill the batch
    with pytest.raises(InvalidSpecError, match="fewer than one window"):
        BatchSampler(data[:-1], BLOCK, BATCH, seed=0)
    with pytest.raises(InvalidSpecError, match="validation"):
        fixed_windows(data[:-1], BLOCK, 4, seed=0)


def test_every_window_makes_each_validation_token_a_target_once_a_batch_at_a_time():
    data = np.arange(1000, dtype=np.uint16)
    windows = EveryWindow(data, block_size=16)
    assert len(windows) == (1000 - 1) // 16
    batches = [windows[i:i + 7] for i in range(0, len(windows), 7)]
    rows = np.concatenate(batches)
    assert rows.dtype == np.int64 and rows.shape == (len(windows), 17)
    targets = rows[:, 1:].reshape(-1)
    assert np.array_equal(targets, np.arange(1, 1 + len(targets)))  # each once, in order, none skipped
    assert 1000 - 1 - len(targets) < 16  # only the tail that fills no window is left out
    with pytest.raises(InvalidSpecError, match="validation split has 10 tokens"):
        EveryWindow(data[:10], block_size=16)
