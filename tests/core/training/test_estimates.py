"""Estimates: exact parameter counts, memory that grows with the batch, FLOPs, a measured step."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.core.models import modeling
from workbench.core.models.presets import apply_preset
from workbench.core.training import estimates


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert", "lstm"])
@pytest.mark.parametrize("preset", ["nano", "micro", "tiny"])
def test_params_are_exactly_the_built_models(arch, preset):
    spec = apply_preset(ModelSpec(arch=arch, vocab_size=97), preset)
    built = modeling.build_model(spec)
    expected = sum(p.numel() for p in built.parameters())
    assert estimates.estimate(spec, TrainSpec(), "cpu").params == expected


def test_untied_and_grouped_query_counts_are_exact():
    for spec in (ModelSpec(arch="gpt2", n_layer=2, n_head=2, n_embd=32, vocab_size=50, tie_embeddings=False),
                 ModelSpec(arch="llama", n_layer=2, n_head=4, n_kv_head=2, n_embd=32, vocab_size=50, bias=False)):
        expected = sum(p.numel() for p in modeling.build_model(spec).parameters())
        assert estimates.count_params(spec)[0] == expected
    untied = ModelSpec(arch="gpt2", n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=50, tie_embeddings=False)
    assert estimates.count_params(untied)[1] == 16 * 32 + 50 * 32  # position table + input embedding


def test_gpt2_124m_is_counted_on_the_meta_device():
    spec = apply_preset(ModelSpec(arch="gpt2", vocab_size=50257), "gpt2-124m")
    est = estimates.estimate(spec, TrainSpec(batch_size=1), "cpu")
    assert est.params == 124_439_808
    assert est.weights_bytes == 4 * est.params and est.optimizer_bytes == 8 * est.params
    non_embedding = est.params - 1024 * 768  # position table does no arithmetic
    assert est.flops_per_token == 6 * non_embedding + 12 * 12 * 1024 * 768


def test_memory_grows_with_batch_and_totals_add_up():
    spec = ModelSpec(arch="gpt2", n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=50)
    small = estimates.estimate(spec, TrainSpec(batch_size=2), "cpu")
    large = estimates.estimate(spec, TrainSpec(batch_size=64), "cpu")
    assert large.activations_bytes == 32 * small.activations_bytes
    assert large.total_bytes > small.total_bytes
    assert large.weights_bytes == small.weights_bytes
    for est in (small, large):
        assert est.total_bytes == est.weights_bytes + est.grads_bytes + est.optimizer_bytes + est.activations_bytes
        assert est.fits is True and est.device_memory_bytes > 0
    bf16 = estimates.estimate(spec, TrainSpec(batch_size=64, precision="bf16"), "cpu")
    assert bf16.activations_bytes == large.activations_bytes // 2


def test_a_run_too_large_for_ram_is_flagged(monkeypatch):
    monkeypatch.setattr(estimates, "available_memory_bytes", lambda device: 2**30)
    spec = apply_preset(ModelSpec(arch="gpt2", vocab_size=50257), "gpt2-124m")
    est = estimates.estimate(spec, TrainSpec(batch_size=32), "cpu")
    assert est.fits is False
    assert any("--batch-size" in note and "kill" in note for note in est.notes)


def test_estimating_a_gpu_run_on_a_machine_without_one():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    spec = ModelSpec(arch="gpt2", n_layer=2, n_head=2, n_embd=32, vocab_size=50)
    est = estimates.estimate(spec, TrainSpec(precision="auto"), "cuda")
    assert est.fits is None and est.device_memory_bytes is None
    assert any("no cuda device" in note for note in est.notes)


@pytest.mark.parametrize("arch", ["gpt2", "bert"])
def test_probe_step_time_is_a_positive_number(arch):
    spec = ModelSpec(arch=arch, n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=50)
    seconds = estimates.probe_step_time(spec, dataclasses.replace(TrainSpec(), batch_size=2, grad_accum=2), "cpu", steps=2)
    assert isinstance(seconds, float) and seconds > 0


def test_fine_tuning_counts_the_pretrained_architecture(tmp_path):
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
    )

    from workbench.core.models.configs import spec_from_hf_config

    models = {
        "llama": LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=100,
                                              num_hidden_layers=1, num_attention_heads=4, max_position_embeddings=32)),
        "bert": BertForMaskedLM(BertConfig(vocab_size=50, hidden_size=32, intermediate_size=50, num_hidden_layers=1,
                                           num_attention_heads=4, max_position_embeddings=32)),
        "gpt2": GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=32, n_inner=64, n_layer=1, n_head=4, n_positions=32,
                                           bos_token_id=None, eos_token_id=None)),
    }
    for arch, model in models.items():
        folder = tmp_path / arch
        model.save_pretrained(folder)
        spec = spec_from_hf_config(model.config, init_from=str(folder))
        assert estimates.count_params(spec)[0] == sum(p.numel() for p in model.parameters()), arch
