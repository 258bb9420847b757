"""Each generated token carries its alternatives after the sampler and as text to branch from."""

from __future__ import annotations

import pytest

from tests.core.inference.test_generation import PROMPT, SmallTokenizer, tiny_gpt2
from workbench.core.base.events import run_to_end
from workbench.core.base.specs import SampleSpec
from workbench.core.inference.generation import generate


def test_top_k_one_leaves_only_the_best_alternative_after_the_sampler():
    model, tok = tiny_gpt2(), SmallTokenizer()
    events, _ = run_to_end(generate(model, tok, PROMPT, SampleSpec(max_new_tokens=8, top_k=1, seed=3)))
    for e in events:
        assert e.alternatives_sampled == pytest.approx((1.0, 0.0, 0.0, 0.0, 0.0), abs=1e-6)
        assert e.prob_sampled == pytest.approx(1.0)
        assert e.alternatives[0][1] < 1.0  # the model itself was less sure


def test_temperature_sharpens_the_sampled_probabilities_and_texts_decode():
    model, tok = tiny_gpt2(), SmallTokenizer()
    events, _ = run_to_end(generate(model, tok, PROMPT, SampleSpec(max_new_tokens=8, temperature=0.5, seed=3)))
    for e in events:
        raw = [p for _, p in e.alternatives]
        assert e.alternatives_sampled[0] > raw[0]
        assert list(e.alternatives_sampled) == sorted(e.alternatives_sampled, reverse=True)
        assert 0 < e.prob_sampled <= 1
        names = [name for name, _ in e.alternatives]
        assert list(e.alternative_texts) == [tok.decode([tok.encode(n)[0]]) if n != "[MASK]" else "" for n in names]


def test_greedy_reports_certainty_for_the_argmax():
    events, _ = run_to_end(generate(tiny_gpt2(), SmallTokenizer(), PROMPT, SampleSpec(max_new_tokens=4, temperature=0)))
    assert all(e.prob_sampled == 1.0 and e.alternatives_sampled[0] == 1.0 for e in events)
