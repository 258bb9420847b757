"""The transformers internals that attention capture and generation lean on, checked one by one.

`workbench.core.models.attention_hooks` reads private or semi-private parts of transformers (5.24
when this was written): `_can_record_outputs["attentions"]` to find the attention modules,
`config._attn_implementation` with `set_attn_implementation` to switch to eager and back, each
family's module-level `eager_attention_forward` (its argument order, its transposed output, its
weights), `AttentionInterface` / `AttentionMaskInterface` / `eager_mask` to register our row-block
implementation, and attention modules that return `(output, weights)`. Generation uses the
`cache=` keyword with a `DynamicCache`. Every assertion names the internal it guards, so a
transformers upgrade that moves one fails here, by name, instead of as a blank heatmap.
"""

from __future__ import annotations

import inspect
import sys

import pytest
import torch
from torch import nn
from transformers import (
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
)

from workbench.core.models import attention_hooks
from workbench.core.models.attention_hooks import attention_hooks as capture_hooks
from workbench.core.models.attention_hooks import attention_modules, eager_attention

LAYERS, HEADS, DIMS, VOCAB, LENGTH = 2, 2, 32, 50, 11


def gpt2() -> nn.Module:
    config = GPT2Config(vocab_size=VOCAB, n_positions=32, n_layer=LAYERS, n_head=HEADS, n_embd=DIMS,
                        attn_implementation="sdpa")
    return GPT2LMHeadModel(config).eval()


def llama() -> nn.Module:
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=DIMS, intermediate_size=64, num_hidden_layers=LAYERS,
                         num_attention_heads=HEADS, num_key_value_heads=1, max_position_embeddings=32,
                         pad_token_id=None, attn_implementation="sdpa")
    return LlamaForCausalLM(config).eval()


def bert() -> nn.Module:
    config = BertConfig(vocab_size=VOCAB, hidden_size=DIMS, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                        intermediate_size=64, max_position_embeddings=32, attn_implementation="sdpa")
    return BertForMaskedLM(config).eval()


FAMILIES = {"gpt2": gpt2, "llama": llama, "bert": bert}
CAUSAL = {"gpt2": True, "llama": True, "bert": False}


def changed(internal: str, what: str) -> str:
    return f"transformers internal changed: {internal}: {what} (relied on by workbench.core.models.attention_hooks)"


@pytest.fixture(params=sorted(FAMILIES))
def family(request) -> str:
    torch.manual_seed(0)
    return request.param


def test_can_record_outputs_names_the_self_attention_modules(family):
    model = FAMILIES[family]()
    declared = [sub._can_record_outputs for sub in model.modules()
                if isinstance(getattr(sub, "_can_record_outputs", None), dict)]
    assert declared, changed("PreTrainedModel._can_record_outputs", f"no {family} module declares it")
    recorder = next((d["attentions"] for d in declared if "attentions" in d), None)
    assert recorder is not None, changed("_can_record_outputs['attentions']", f"missing for {family}")
    target = getattr(recorder, "target_class", recorder)  # an OutputRecorder or the class itself
    assert isinstance(target, type) and issubclass(target, nn.Module), \
        changed("_can_record_outputs['attentions']", f"neither a module class nor OutputRecorder.target_class: {recorder!r}")
    found = attention_modules(model)
    assert len(found) == LAYERS and all(isinstance(m, target) for m in found), \
        changed("_can_record_outputs['attentions']", f"expected one self-attention module per layer, got {found}")


def test_attn_implementation_is_read_and_switched(family):
    model = FAMILIES[family]()
    assert getattr(model.config, "_attn_implementation", None) == "sdpa", \
        changed("config._attn_implementation", "no longer holds the implementation chosen at build time")
    assert callable(getattr(model, "set_attn_implementation", None)), \
        changed("PreTrainedModel.set_attn_implementation", "missing")
    model.set_attn_implementation("eager")
    assert model.config._attn_implementation == "eager", \
        changed("set_attn_implementation", "does not update config._attn_implementation")
    with torch.inference_mode():
        out = attention_modules(model)[0](*_attention_inputs(model, family))
    assert isinstance(out, tuple) and len(out) > 1 and out[1] is not None, \
        changed("attention module forward", "under eager it no longer returns (output, weights, ...)")


def test_eager_attention_forward_keeps_its_contract(family):
    model = FAMILIES[family]()
    module = attention_modules(model)[0]
    name = type(module).__module__
    eager = getattr(sys.modules[name], "eager_attention_forward", None)
    assert callable(eager), changed(f"{name}.eager_attention_forward", "missing")
    params = list(inspect.signature(eager).parameters)
    assert params[:5] == ["module", "query", "key", "value", "attention_mask"], \
        changed(f"{name}.eager_attention_forward", f"argument order is now {params}")
    kv_heads = getattr(model.config, "num_key_value_heads", HEADS)
    head_dim = DIMS // HEADS
    query = torch.randn(1, HEADS, LENGTH, head_dim)
    key, value = torch.randn(2, 1, kv_heads, LENGTH, head_dim).unbind(0)
    with torch.inference_mode():
        output, weights = eager(module, query, key, value, None, scaling=head_dim ** -0.5, dropout=0.0)
    assert weights.shape == (1, HEADS, LENGTH, LENGTH), changed(f"{name}.eager_attention_forward", f"weights {weights.shape}")
    assert output.shape == (1, LENGTH, HEADS, head_dim), \
        changed(f"{name}.eager_attention_forward", f"output is no longer [batch, rows, heads, dim]: {output.shape}")
    groups = HEADS // kv_heads
    expected = torch.softmax(query @ key.repeat_interleave(groups, 1).transpose(-1, -2) * head_dim ** -0.5, -1)
    torch.testing.assert_close(weights, expected, msg=changed(f"{name}.eager_attention_forward", "weights differ from softmax(QK^T)"))


def test_row_block_implementation_registers(family):
    model = FAMILIES[family]()
    chosen = attention_hooks._weights_implementation(model)
    assert chosen == attention_hooks.ROWS_IMPLEMENTATION, changed(
        "AttentionInterface.register / masking_utils.AttentionMaskInterface / eager_mask",
        f"our row-block implementation could not be registered; fell back to {chosen!r}")


@pytest.mark.parametrize("block_elements", [attention_hooks.ROW_BLOCK_ELEMENTS, 1])
def test_capture_yields_the_models_own_attention_weights(family, block_elements, monkeypatch):
    # block_elements=1 splits every call into single query rows: the mask transformers passes must
    # be a [.., queries, keys] tensor that can be cut by rows (a causal model given None would leak).
    monkeypatch.setattr(attention_hooks, "ROW_BLOCK_ELEMENTS", block_elements)
    model = FAMILIES[family]()
    ids = torch.randint(0, VOCAB, (1, LENGTH))
    with torch.inference_mode():
        plain = model(input_ids=ids).logits
        model.set_attn_implementation("eager")
        reference = model(input_ids=ids, output_attentions=True).attentions
        model.set_attn_implementation("sdpa")
    assert reference is not None and len(reference) == LAYERS, changed("output_attentions", "eager returned no weights")
    captured: dict[int, torch.Tensor] = {}
    with eager_attention(model), capture_hooks(model, lambda i, w: captured.__setitem__(i, w.float())), \
            torch.inference_mode():
        logits = model(input_ids=ids).logits
    assert model.config._attn_implementation == "sdpa", changed("set_attn_implementation", "did not switch back")
    assert sorted(captured) == list(range(LAYERS))
    for layer, weights in captured.items():
        assert weights.shape == (1, HEADS, LENGTH, LENGTH)
        torch.testing.assert_close(weights, reference[layer].float(), atol=2e-3, rtol=0,
                                   msg=changed("eager_attention_forward / attention mask", f"layer {layer} weights differ"))
        assert torch.allclose(weights.sum(-1), torch.ones(()), atol=2e-3)
        above_diagonal = weights.triu(1).abs().sum().item()
        assert (above_diagonal == 0) == CAUSAL[family], \
            changed("attention mask for eager", f"{family} attends {'ahead' if CAUSAL[family] else 'only back'}")
    torch.testing.assert_close(logits, plain, atol=1e-4, rtol=1e-4,
                               msg=changed("eager_attention_forward", "its output layout changed: logits differ from sdpa"))


def test_generation_cache_keyword_and_dynamic_cache():
    from transformers import DynamicCache

    for model in (gpt2(), llama()):
        name = type(model).__name__
        assert "cache" in inspect.signature(model.forward).parameters, changed(f"{name}.forward", "no `cache` argument")
        cache = DynamicCache(config=model.config)
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([[1, 2, 3]]), cache=cache, use_cache=True)
            assert out.cache is cache and cache.get_seq_length() == 3, changed("DynamicCache / output.cache", name)
            model(input_ids=torch.tensor([[4]]), cache=cache, use_cache=True)
        assert cache.get_seq_length() == 4, changed("DynamicCache", f"{name} did not append to the cache it was given")


def _attention_inputs(model: nn.Module, family: str) -> tuple:
    """Positional inputs for one attention module of `family`: hidden states (+ Llama's rotary
    position embeddings and its mask argument)."""
    hidden = torch.randn(1, LENGTH, DIMS)
    if family != "llama":
        return (hidden,)
    positions = torch.arange(LENGTH)[None]
    return hidden, model.model.rotary_emb(hidden, positions), None
