"""Head scores: each score on maps built to have exactly that pattern, and on a real tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from workbench.core.attention.head_scores import choose_period, head_scores, repeated_random_ids
from workbench.core.attention.scores import (
    HeadScores,
    first_token_score,
    induction_score,
    normalised_entropy,
    previous_token_score,
)
from workbench.core.base.errors import InvalidSpecError, WorkbenchError


def causal_uniform(size: int) -> np.ndarray:
    return np.tril(np.ones((size, size))) / np.arange(1, size + 1)[:, None]


def one_hot_rows(size: int, targets: list[int]) -> np.ndarray:
    w = np.zeros((size, size), dtype=np.float32)
    w[np.arange(size), targets] = 1.0
    return w


def test_each_score_finds_its_own_pattern_and_not_the_others():
    size, period = 12, 6
    previous = one_hot_rows(size, [0] + list(range(size - 1)))
    sink = one_hot_rows(size, [0] * size)
    # induction: position period + j looks at j + 1 (the token after the earlier copy); others at themselves
    induction = one_hot_rows(size, [i if i < period else i - period + 1 for i in range(size)])
    stack = np.stack([previous, sink, induction, causal_uniform(size)])
    np.testing.assert_allclose(previous_token_score(stack), [1, 1 / 11, 0, np.mean(1 / np.arange(2, 13))],
                               rtol=1e-6)
    np.testing.assert_allclose(first_token_score(stack)[:2], [1 / 11, 1])
    np.testing.assert_allclose(induction_score(stack, period)[[0, 1, 2]], [0, 0, 1])
    np.testing.assert_allclose(normalised_entropy(stack), [0, 0, 0, 1], atol=1e-6)


def test_induction_needs_two_copies():
    with pytest.raises(InvalidSpecError, match="two copies"):
        induction_score(np.eye(5), 3)


def test_induction_heads_are_listed_strongest_first():
    scores = HeadScores(induction=np.array([[0.1, 0.5], [0.9, 0.2]]), previous_token=np.zeros((2, 2)),
                        first_token=np.zeros((2, 2)), entropy=np.zeros((2, 2)), period=8)
    assert scores.induction_heads() == [(1, 0, 0.9), (0, 1, 0.5)]
    with pytest.raises(InvalidSpecError, match="unknown head score"):
        scores.score("nope")


class Chars:
    vocab_size = 40
    special_tokens = {"<eos>": 0}
    eos_token_id = 0
    mask_token_id = None

    def encode(self, text: str) -> list[int]:
        return [1 + ord(c) % 39 for c in text]

    def token_text(self, token_id: int) -> str:
        return chr(token_id + 60)


def test_random_copies_are_distinct_ordinary_tokens_twice():
    ids = repeated_random_ids(Chars(), 20, seed=3)
    assert ids[:20] == ids[20:] and len(set(ids[:20])) == 20 and 0 not in ids
    assert choose_period(64, Chars()) == 32 and choose_period(1024, Chars()) == 39


def test_scores_of_a_tiny_model_have_one_value_per_layer_and_head():
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=32, n_layer=2, n_head=3, n_embd=24)).eval()
    scores = head_scores(model, Chars(), "the king speaks")
    assert scores.period == 16 and scores.text_tokens == 15
    for name in ("induction", "previous_token", "first_token", "entropy"):
        values = scores.score(name)
        assert values.shape == (2, 3) and np.all((values >= 0) & (values <= 1 + 1e-6)), name
    assert head_scores(model, Chars()).text_tokens == 0  # no text: all from the random copies
    with pytest.raises(InvalidSpecError, match="does not fit twice"):
        head_scores(model, Chars(), period=20)


def test_an_lstm_has_no_head_scores():
    with pytest.raises(WorkbenchError, match="LSTM"):
        head_scores(torch.nn.LSTM(4, 4), Chars())


def test_induction_is_attention_to_the_token_after_the_earlier_occurrence_of_the_same_token():
    ids = repeated_random_ids(Chars(), 10, seed=1)
    size = len(ids)
    earlier = [max((k for k in range(i) if ids[k] == ids[i]), default=i) for i in range(size)]
    # the three heads of an induction circuit's neighbourhood, built from the tokens, not from the period
    induction = one_hot_rows(size, [min(k + 1, i) if k < i else i for i, k in enumerate(earlier)])
    duplicate = one_hot_rows(size, earlier)  # attends to the earlier copy itself
    previous = one_hot_rows(size, [max(i - 1, 0) for i in range(size)])
    for i in range(10, size - 1):  # the induction head's key is the token that comes next here
        assert ids[int(induction[i].argmax())] == ids[i + 1]
    half = (induction + duplicate) / 2
    stack = np.stack([induction, duplicate, previous, half, causal_uniform(size)])
    scores = induction_score(stack, 10)
    np.testing.assert_allclose(scores[:4], [1, 0, 0, 0.5], atol=1e-6)
    assert scores[4] < 0.1  # uniform attention: about one key in 10 to 19, far under the threshold
    heads = HeadScores(induction=scores.reshape(1, 5), previous_token=np.zeros((1, 5)),
                       first_token=np.zeros((1, 5)), entropy=np.zeros((1, 5)), period=10)
    assert [(layer, head) for layer, head, _ in heads.induction_heads()] == [(0, 0), (0, 3)]


def test_repeat_targets_point_after_each_earlier_occurrence_of_the_last_tokens():
    from workbench.core.attention.scores import repeat_targets

    ids = [5, 6, 7, 8, 9, 5, 6, 7, 8]  # 5 6 7 8 repeats: positions 7 and 8 end a repeated 3-token span
    rows, cols = repeat_targets(ids, match=3)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(7, 3), (8, 4)]
    assert repeat_targets([1, 2, 3, 4, 5], match=3)[0].size == 0  # nothing repeats
    rows, cols = repeat_targets([1, 1, 1, 1, 1], match=2)  # a run: every earlier pair, never the token itself
    assert all(c < r for r, c in zip(rows.tolist(), cols.tolist(), strict=True))


def test_text_induction_score_is_the_weight_on_the_targets_averaged_over_repeated_positions():
    from workbench.core.attention.scores import repeat_targets, text_induction_score

    ids = [5, 6, 7, 8, 9, 5, 6, 7, 8]
    rows, cols = repeat_targets(ids, match=3)
    copying = np.tile(np.eye(9, dtype=np.float32), (2, 1, 1))  # head 0 copies, head 1 attends to itself
    for row, col in zip(rows, cols, strict=True):
        copying[0, row] = 0.0
        copying[0, row, col] = 1.0
    score = text_induction_score(copying, rows, cols)
    assert score.tolist() == [1.0, 0.0]
    assert text_induction_score(copying, np.empty(0, int), np.empty(0, int)).tolist() == [0.0, 0.0]


def test_a_text_that_repeats_itself_is_a_second_induction_probe_and_the_larger_score_counts():
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=64, n_layer=2, n_head=3, n_embd=24)).eval()
    plain = head_scores(model, Chars(), "the king speaks")
    assert plain.text_induction is None and plain.repeat_positions == 0
    np.testing.assert_array_equal(plain.induction, plain.random_induction)
    assert "text" not in plain.induction_source()
    line = "ab cde fg hij | cde fg hij\n"  # a copy-task line: 'cde fg hij' repeats
    scores = head_scores(model, Chars(), line)
    assert scores.repeat_positions >= 8 and scores.text_induction is not None
    np.testing.assert_array_equal(scores.induction, np.maximum(scores.random_induction, scores.text_induction))
    assert f"the {scores.repeat_positions} positions of the text" in scores.induction_source()
