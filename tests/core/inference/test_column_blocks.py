"""Column blocks for one-token matmuls (issue 14's speed): bit for bit `addmm`, made once per weight
and made again when the weight changes, kept no longer than the weight lives."""

from __future__ import annotations

import gc

import pytest
import torch

from tests.core.inference.test_gpt2_decoder import hf_cached_logits, hf_gpt2
from workbench.core.inference import column_blocks
from workbench.core.inference.column_blocks import BLOCK, blocked, worth_blocking
from workbench.core.inference.models import make_stepper


@pytest.mark.parametrize("shape", [(768, 2304), (768, 768), (3072, 768), (64, 4 * BLOCK)])
def test_one_row_through_the_blocks_is_bit_for_bit_addmm(shape, monkeypatch):
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)
    torch.manual_seed(0)
    weight, bias = torch.randn(shape) * 0.02, torch.randn(shape[1]) * 0.02
    linear = blocked(weight, bias)
    assert linear.blocks is not None and linear.blocks.shape == (shape[1] // BLOCK, shape[0], BLOCK)
    row = torch.randn(1, shape[0])
    assert torch.equal(linear(row), torch.addmm(bias, row, weight))
    prompt = torch.randn(5, shape[0])  # several rows: the weight itself
    assert torch.equal(linear(prompt), torch.addmm(bias, prompt, weight))


def test_which_weights_are_cut_into_blocks():
    assert worth_blocking(torch.zeros(512, 512))  # 1 MB: no longer stays in the cache
    assert not worth_blocking(torch.zeros(128, 384))  # a small model's weight
    assert not worth_blocking(torch.zeros(512, 520))  # columns not a multiple of BLOCK
    assert not worth_blocking(torch.zeros(512, 512, dtype=torch.float16))
    assert not worth_blocking(torch.zeros(512, 512, device="meta"))
    assert blocked(torch.zeros(128, 384), torch.zeros(384)).blocks is None


def test_blocks_are_kept_while_the_weight_is_unchanged_and_made_again_after_a_change(monkeypatch):
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(64, 2 * BLOCK))
    bias = torch.nn.Parameter(torch.zeros(2 * BLOCK))
    first = blocked(weight, bias)
    assert blocked(weight, bias).blocks is first.blocks  # the next generation reuses them
    with torch.no_grad():
        weight.mul_(2.0)  # an optimizer step or a loaded checkpoint: in place
    second = blocked(weight, bias)
    assert second.blocks is not first.blocks
    row = torch.randn(1, 64)
    assert torch.equal(second(row), torch.addmm(bias, row, weight))
    assert not torch.equal(first(row), second(row))  # the earlier snapshot kept the old weight


def test_blocks_go_when_their_weight_goes(monkeypatch):
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)
    before = column_blocks.kept_count()
    weight = torch.randn(64, 2 * BLOCK)
    blocked(weight, torch.zeros(2 * BLOCK))
    assert column_blocks.kept_count() == before + 1
    del weight
    gc.collect()
    assert column_blocks.kept_count() == before


def test_a_weight_made_in_inference_mode_is_cut_each_time(monkeypatch):
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)
    with torch.inference_mode():
        weight, bias = torch.randn(64, 2 * BLOCK), torch.zeros(2 * BLOCK)  # no version counter to check
    before = column_blocks.kept_count()
    row = torch.randn(1, 64)
    assert torch.equal(blocked(weight, bias)(row), torch.addmm(bias, row, weight))
    assert column_blocks.kept_count() == before


def test_the_decoder_through_blocks_matches_transformers_bit_for_bit(monkeypatch):
    """The whole decode path with every weight in blocks ("gelu": bit for bit, see the decoder test)."""
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)
    model = hf_gpt2("gelu")
    stepper = make_stepper(model, torch.device("cpu"))
    assert all(layer.fc.blocks is not None for layer in stepper.decoder.layers)
    ours = [stepper.prime([3, 1, 4, 1, 5])]
    for _ in range(6):
        ours.append(stepper.advance(int(ours[-1].argmax())))
    theirs = hf_cached_logits(model, [3, 1, 4, 1, 5], 6)
    for step, (mine, hf) in enumerate(zip(ours[1:], theirs[1:], strict=True)):
        assert torch.equal(mine, hf), f"step {step + 1}"


def test_the_next_generation_decodes_with_the_changed_weights(monkeypatch):
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)
    model = hf_gpt2("gelu")

    def second_token_logits() -> torch.Tensor:
        stepper = make_stepper(model, torch.device("cpu"))
        stepper.prime([1, 2, 3])
        return stepper.advance(4)

    before = second_token_logits()
    with torch.no_grad():
        model.transformer.h[1].mlp.c_proj.weight.mul_(3.0)
    after = second_token_logits()
    assert not torch.allclose(before, after)
    assert torch.equal(after, hf_cached_logits_after(model, [1, 2, 3], 4))


def hf_cached_logits_after(model, prompt: list[int], token: int) -> torch.Tensor:
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([prompt]), use_cache=True)
        out = model(input_ids=torch.tensor([[token]]), cache=out.past_key_values, use_cache=True)
    return out.logits[0, -1].float()
