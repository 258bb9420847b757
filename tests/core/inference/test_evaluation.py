"""Evaluation: perplexity over windows, per-token losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.core.base.events import Progress, run_to_end
from workbench.core.base.specs import ModelSpec
from workbench.core.inference.evaluation import per_token_loss, perplexity
from workbench.core.models import modeling

VOCAB = 40


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(arch: str = "gpt2") -> ModelSpec:
    return ModelSpec(arch=arch, n_layer=2, n_head=2, n_embd=32, block_size=8, vocab_size=VOCAB)



def tokens(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, VOCAB, n).astype(np.uint16)  # like a token cache


@pytest.mark.parametrize("arch", ["gpt2", "llama", "lstm"])
def test_perplexity_is_exp_of_the_mean_window_loss(arch):
    torch.manual_seed(0)
    spec = tiny(arch)
    model = modeling.build_model(spec)
    ids = tokens(5 * 8 + 1)  # exactly 5 windows of 8 predictions
    events, (loss, ppl) = run_to_end(perplexity(model, spec, ids, batch_size=2))
    assert model.training  # mode restored
    assert [e.done for e in events] == [2, 4, 5] and all(isinstance(e, Progress) and e.total == 5 for e in events)
    windows = torch.from_numpy(np.stack([ids[s:s + 9] for s in range(0, 40, 8)]).astype(np.int64))
    model.eval()
    with torch.no_grad():
        expected = modeling.compute_loss(model, spec, windows).item()
    assert loss == pytest.approx(expected, rel=1e-5)
    assert ppl == pytest.approx(math.exp(loss))


def test_perplexity_counts_a_short_last_window():
    spec = tiny()
    model = modeling.build_model(spec).eval()
    ids = tokens(8 + 4)  # one full window (8 predictions) + a tail of 3 predictions
    _, (loss, _) = run_to_end(perplexity(model, spec, ids))
    window_losses = np.concatenate([per_token_loss(model, spec, ids[:9])[1:], per_token_loss(model, spec, ids[8:])[1:]])
    assert len(window_losses) == 11
    assert loss == pytest.approx(float(window_losses.mean()), rel=1e-5)


def test_bert_pseudo_perplexity_is_repeatable():
    spec = tiny("bert")
    model = modeling.build_model(spec)
    ids = tokens(100)
    first = run_to_end(perplexity(model, spec, ids, mask_token_id=0))[1]
    second = run_to_end(perplexity(model, spec, ids, mask_token_id=0))[1]
    assert first == second and math.isfinite(first[0])
    assert first[1] == pytest.approx(math.exp(first[0]))


def test_per_token_loss_within_one_window_matches_the_loss():
    spec = tiny()
    model = modeling.build_model(spec).eval()
    ids = tokens(9)
    losses = per_token_loss(model, spec, list(ids))
    assert losses.shape == (9,) and math.isnan(losses[0]) and not np.isnan(losses[1:]).any()
    with torch.no_grad():
        expected = modeling.compute_loss(model, spec, torch.from_numpy(ids.astype(np.int64))[None]).item()
    assert float(losses[1:].mean()) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("arch", ["gpt2", "llama", "lstm"])
def test_per_token_loss_of_a_text_longer_than_the_context(arch):
    spec = tiny(arch)
    model = modeling.build_model(spec)
    losses = per_token_loss(model, spec, tokens(30))
    assert losses.shape == (30,) and math.isnan(losses[0]) and np.isfinite(losses[1:]).all()
    assert model.training


def test_per_token_loss_edge_cases_and_bert():
    spec = tiny()
    model = modeling.build_model(spec)
    assert np.isnan(per_token_loss(model, spec, [3])).all()
    bert = tiny("bert")
    losses = per_token_loss(modeling.build_model(bert), bert, tokens(12), mask_token_id=0)
    assert losses.shape == (12,) and np.isfinite(losses).all()
