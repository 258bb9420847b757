"""Blocks for one-token matmuls (issue 14's speed): the product of `addmm` / `F.linear` within float
rounding, made once per weight and made again when the weight changes, kept no longer than the
weight lives."""

from __future__ import annotations

import gc

import pytest
import torch
import torch.nn.functional as F

from tests.core.inference.test_gpt2_decoder import hf_cached_logits, hf_gpt2
from workbench.core.inference import column_blocks
from workbench.core.inference.column_blocks import BLOCK, BlockedLinear, worth_blocking
from workbench.core.inference.column_blocks import conv1d as plain_conv1d
from workbench.core.inference.column_blocks import linear as plain_linear
from workbench.core.inference.models import make_stepper


def conv1d(weight: torch.Tensor, bias: torch.Tensor) -> BlockedLinear:
    return column_blocks.with_blocks(plain_conv1d(weight, bias))


def linear(weight: torch.Tensor) -> BlockedLinear:
    return column_blocks.with_blocks(plain_linear(weight))


CLOSE = dict(rtol=1e-5, atol=1e-5)  # float32 sums of up to 3072 products in another order


@pytest.fixture
def block_everything(monkeypatch):
    monkeypatch.setattr(column_blocks, "MIN_WEIGHTS", 0)


@pytest.mark.parametrize("shape", [(768, 2304), (3072, 768), (64, 2 * BLOCK), (64, 2 * BLOCK + 5)])
def test_a_conv1d_layer_gives_addmm_s_product_for_one_row_and_for_a_prompt(shape, block_everything):
    torch.manual_seed(0)
    weight, bias = torch.randn(shape) * 0.02, torch.randn(shape[1]) * 0.02
    layer = conv1d(weight, bias)
    assert layer.blocks is not None and layer.blocks.shape == (-(-shape[1] // BLOCK), BLOCK, shape[0])
    row = torch.randn(1, shape[0])
    torch.testing.assert_close(layer(row), torch.addmm(bias, row, weight), **CLOSE)
    prompt = torch.randn(5, shape[0])  # several rows: the weight itself, bit for bit
    assert torch.equal(layer(prompt), torch.addmm(bias, prompt, weight))


def test_a_head_of_any_vocabulary_gives_f_linear_s_product(block_everything):
    torch.manual_seed(0)
    embedding = torch.randn(1000, 48) * 0.02  # [vocab, C]: 1000 is not a multiple of BLOCK
    head = linear(embedding)
    assert head.blocks is not None
    row = torch.randn(1, 48)
    logits = head(row)
    assert logits.shape == (1, 1000)
    torch.testing.assert_close(logits, F.linear(row, embedding), **CLOSE)


def test_which_weights_are_cut_into_blocks():
    assert worth_blocking(torch.zeros(512, 512))  # 1 MB: no longer stays in the cache
    assert not worth_blocking(torch.zeros(128, 384))  # a small model's weight
    assert not worth_blocking(torch.zeros(512, 512, dtype=torch.float16))
    assert not worth_blocking(torch.zeros(512, 512, device="meta"))
    assert conv1d(torch.zeros(128, 384), torch.zeros(384)).blocks is None


def test_blocks_are_kept_while_the_weight_is_unchanged_and_made_again_after_a_change(block_everything):
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(64, 2 * BLOCK), requires_grad=False)  # frozen, as loaded for inference
    bias = torch.nn.Parameter(torch.zeros(2 * BLOCK), requires_grad=False)
    first = conv1d(weight, bias)
    assert conv1d(weight, bias).blocks is first.blocks  # the next generation reuses them
    with torch.no_grad():
        weight.mul_(2.0)  # an optimizer step or a loaded checkpoint: in place
    second = conv1d(weight, bias)
    assert second.blocks is not first.blocks
    row = torch.randn(1, 64)
    torch.testing.assert_close(second(row), torch.addmm(bias, row, weight), **CLOSE)
    torch.testing.assert_close(first(row) * 2, second(row), **CLOSE)  # the earlier snapshot kept the old weight


def test_blocks_go_when_their_weight_goes(block_everything):
    weight = torch.randn(64, 2 * BLOCK)
    conv1d(weight, torch.zeros(2 * BLOCK))
    key = id(weight)
    assert column_blocks.has_kept(key)
    del weight
    gc.collect()
    assert not column_blocks.has_kept(key)


def test_a_weight_made_in_inference_mode_is_cut_each_time(block_everything):
    with torch.inference_mode():
        weight, bias = torch.randn(64, 2 * BLOCK), torch.zeros(2 * BLOCK)  # no version counter to check
    row = torch.randn(1, 64)
    torch.testing.assert_close(conv1d(weight, bias)(row), torch.addmm(bias, row, weight), **CLOSE)
    assert not column_blocks.has_kept(id(weight))


@pytest.mark.parametrize("activation", ["gelu", "gelu_new"])
def test_the_decoder_through_blocks_matches_transformers_step_by_step(activation, block_everything):
    model = hf_gpt2(activation)
    stepper = make_stepper(model, torch.device("cpu"))
    ours = [stepper.prime([3, 1, 4, 1, 5])]
    assert stepper.decoder.head.blocks is None  # the first token does not wait for the copy
    for _ in range(6):
        ours.append(stepper.advance(int(ours[-1].argmax())))
    assert all(layer.fc.blocks is not None for layer in stepper.decoder.layers)
    assert stepper.decoder.head.blocks is not None
    theirs = hf_cached_logits(model, [3, 1, 4, 1, 5], 6)
    for step, (mine, hf) in enumerate(zip(ours, theirs, strict=True)):
        torch.testing.assert_close(mine, hf, rtol=1e-5, atol=1e-5, msg=f"step {step}")


def test_a_trainable_weight_gets_new_blocks_every_generation(block_everything):
    """CPU fused AdamW writes the weight without bumping its version counter: blocks kept by the
    counter alone would go on multiplying by the weight as it was before the step."""
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(64, 2 * BLOCK))
    bias = torch.nn.Parameter(torch.zeros(2 * BLOCK))
    row = torch.randn(1, 64)
    before = conv1d(weight, bias)(row)
    assert not column_blocks.has_kept(id(weight))
    optimizer = torch.optim.AdamW([weight, bias], lr=0.1, fused=True)
    torch.addmm(bias, row, weight).square().sum().backward()
    optimizer.step()
    after = conv1d(weight, bias)(row)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, torch.addmm(bias, row, weight).detach(), **CLOSE)


def test_the_next_generation_decodes_with_the_changed_weights(block_everything):
    model = hf_gpt2("gelu").requires_grad_(False)  # frozen, as `load_model_dir` gives inference models

    def second_token_logits() -> torch.Tensor:
        stepper = make_stepper(model, torch.device("cpu"))
        stepper.prime([1, 2, 3])
        return stepper.advance(4)

    before = second_token_logits()
    with torch.no_grad():
        model.transformer.h[1].mlp.c_proj.weight.mul_(3.0)
    after = second_token_logits()
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, hf_logits_after(model, [1, 2, 3], 4), rtol=1e-5, atol=1e-5)


def hf_logits_after(model, prompt: list[int], token: int) -> torch.Tensor:
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([prompt]), use_cache=True)
        out = model(input_ids=torch.tensor([[token]]), cache=out.past_key_values, use_cache=True)
    return out.logits[0, -1].float()
