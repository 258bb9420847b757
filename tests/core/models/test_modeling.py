"""Models: the lean GPT against transformers' GPT-2, folders on disk, losses, pretrained loading."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
)

from workbench.core.base.errors import CorruptProjectError, InvalidSpecError, NotFoundError, WorkbenchError
from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.core.models import modeling
from workbench.core.models import pretrained as model_pretrained
from workbench.core.models.lean_gpt import LeanGPT, to_gpt2_config
from workbench.core.models.lstm import LSTMLanguageModel
from workbench.core.models.presets import PRESETS, apply_preset
from workbench.core.training.optim import make_optimizer

VOCAB = 61
ARCHS = ["gpt2", "llama", "bert", "lstm"]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread, and a busy 2-core machine makes 2 threads crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(arch: str = "gpt2", **kw) -> ModelSpec:
    base = dict(arch=arch, n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=VOCAB)
    if arch == "llama":
        base["n_kv_head"] = 1  # exercise grouped-query attention
    base.update(kw)
    return ModelSpec(**base)


def batch(rows: int = 4, length: int = 17, seed: int = 0) -> torch.Tensor:
    return torch.randint(VOCAB, (rows, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("activation", ["gelu", "gelu_new"])
def test_lean_gpt_loads_strictly_into_gpt2lmheadmodel_with_equal_logits(activation):
    torch.manual_seed(0)
    spec = tiny("gpt2")
    lean = LeanGPT(dataclasses.replace(modeling.lean_config(spec), activation=activation)).eval()
    config = to_gpt2_config(lean.config)
    assert config.activation_function == activation
    hf = GPT2LMHeadModel(config).eval()
    assert {k: v.shape for k, v in hf.state_dict().items()} == {k: v.shape for k, v in lean.state_dict().items()}
    hf.load_state_dict(lean.state_dict(), strict=True)
    assert hf.lm_head.weight.data_ptr() == hf.transformer.wte.weight.data_ptr()  # still tied
    ids = batch(3, 16)
    with torch.no_grad():
        ours, theirs = lean(ids, labels=ids), hf(input_ids=ids, labels=ids)
    torch.testing.assert_close(ours.logits, theirs.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.loss, theirs.loss, atol=1e-5, rtol=0)


def test_lean_gpt_untied_head_matches_hf_too():
    spec = tiny("gpt2", tie_embeddings=False)
    lean = modeling.build_model(spec).eval()
    assert lean.lm_head.weight is not lean.transformer.wte.weight
    hf = GPT2LMHeadModel(modeling.hf_config(spec)).eval()
    hf.load_state_dict(lean.state_dict(), strict=True)
    ids = batch(2, 16)
    with torch.no_grad():
        torch.testing.assert_close(lean(ids).logits, hf(input_ids=ids).logits, atol=1e-5, rtol=0)


def test_lean_gpt_targets_and_labels_give_the_same_loss():
    lean = modeling.build_model(tiny("gpt2")).eval()
    ids = batch(2, 17)
    with torch.no_grad():
        shifted = lean(ids[:, :-1], targets=ids[:, 1:]).loss
        hf_style = lean(ids[:, :-1]).logits
    expected = torch.nn.functional.cross_entropy(hf_style.reshape(-1, VOCAB), ids[:, 1:].reshape(-1))
    torch.testing.assert_close(shifted, expected)


@pytest.mark.parametrize("arch", ARCHS)
def test_save_and_load_round_trip(tmp_path, arch):
    torch.manual_seed(1)
    spec = tiny(arch, dropout=0.1)
    model = modeling.build_model(spec).eval()
    modeling.save_model_dir(model, spec, tmp_path)
    assert (tmp_path / "config.json").is_file() and (tmp_path / "model.safetensors").is_file()
    ids = batch(2, 16)
    with torch.no_grad():
        expected = modeling.logits_of(model, ids)
    for for_training in (False, True):
        loaded, loaded_spec = modeling.load_model_dir(tmp_path, for_training=for_training)
        assert loaded_spec == spec
        assert loaded.training is for_training
        assert all(p.requires_grad is for_training for p in loaded.parameters())
        loaded.eval()
        with torch.no_grad():
            torch.testing.assert_close(modeling.logits_of(loaded, ids), expected, atol=1e-6, rtol=0)
    inference, _ = modeling.load_model_dir(tmp_path, for_training=False)
    training, _ = modeling.load_model_dir(tmp_path, for_training=True)
    expected_types = {"gpt2": (GPT2LMHeadModel, LeanGPT), "llama": (LlamaForCausalLM, LlamaForCausalLM),
                      "lstm": (LSTMLanguageModel, LSTMLanguageModel)}
    if arch in expected_types:
        assert (type(inference), type(training)) == expected_types[arch]


def test_gpt2_folder_is_plain_hugging_face(tmp_path):
    spec = tiny("gpt2")
    model = modeling.build_model(spec).eval()
    modeling.save_model_dir(model, spec, tmp_path)
    weights = load_file(str(tmp_path / "model.safetensors"))
    assert "lm_head.weight" not in weights and "transformer.h.0.attn.c_attn.weight" in weights
    hf = AutoModelForCausalLM.from_pretrained(tmp_path, local_files_only=True)
    assert isinstance(hf, GPT2LMHeadModel)
    ids = batch(2, 16)
    with torch.no_grad():
        torch.testing.assert_close(hf.eval()(input_ids=ids).logits, model(ids).logits, atol=1e-5, rtol=0)


def test_bert_folder_loads_with_auto_masked_lm_and_lstm_has_its_own_type(tmp_path):
    spec = tiny("bert")
    modeling.save_model_dir(modeling.build_model(spec), spec, tmp_path / "bert")
    assert type(AutoModelForMaskedLM.from_pretrained(tmp_path / "bert", local_files_only=True)).__name__ == "BertForMaskedLM"
    lstm = tiny("lstm")
    modeling.save_model_dir(modeling.build_model(lstm), lstm, tmp_path / "lstm")
    config = json.loads((tmp_path / "lstm" / "config.json").read_text())
    assert config["model_type"] == "workbench-lstm"
    assert config["workbench_spec"]["n_layer"] == 2


def test_load_model_dir_reports_missing_and_damaged_folders(tmp_path):
    with pytest.raises(NotFoundError, match="config.json"):
        modeling.load_model_dir(tmp_path, for_training=False)
    spec = tiny("gpt2")
    modeling.save_model_dir(modeling.build_model(spec), spec, tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CorruptProjectError, match="another checkpoint"):
        modeling.load_model_dir(tmp_path, for_training=True)


def test_save_model_dir_unwraps_compiled_or_ddp_like_wrappers(tmp_path):
    spec = tiny("gpt2")
    model = modeling.build_model(spec)

    class Wrapper(torch.nn.Module):  # what DistributedDataParallel looks like: the model in .module
        def __init__(self, inner):
            super().__init__()
            self.module = inner

    modeling.save_model_dir(Wrapper(model), spec, tmp_path)
    loaded, _ = modeling.load_model_dir(tmp_path, for_training=True)
    torch.testing.assert_close(loaded.state_dict()["transformer.wte.weight"], model.transformer.wte.weight.detach())


@pytest.mark.parametrize("arch", ARCHS)
def test_compute_loss_decreases_with_adamw(arch):
    torch.manual_seed(0)
    spec = tiny(arch)
    model = modeling.build_model(spec)
    optimizer = make_optimizer(model, TrainSpec(lr=2e-2, weight_decay=0.0))
    ids = batch(4, 17)
    losses = []
    for _ in range(20):
        generator = torch.Generator().manual_seed(0)  # the same masks each step: a repeated batch
        loss = modeling.compute_loss(model, spec, ids, mask_token_id=VOCAB - 1, generator=generator)
        assert loss.ndim == 0 and torch.isfinite(loss)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses


def test_bert_masking_proportions():
    ids = torch.randint(5, VOCAB, (64, 256), generator=torch.Generator().manual_seed(0))
    inputs, labels = modeling.mask_tokens(ids, VOCAB, mask_token_id=0, generator=torch.Generator().manual_seed(1))
    chosen = labels != -100
    assert abs(chosen.float().mean().item() - 0.15) < 0.01
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])  # unchosen positions are never touched
    n = chosen.sum().item()
    masked = (inputs[chosen] == 0).sum().item() / n
    unchanged = (inputs[chosen] == ids[chosen]).sum().item() / n
    assert abs(masked - 0.8) < 0.03
    assert abs(unchanged - 0.1) < 0.03  # (a random replacement may equal the original: 1/61 of 10%)
    again = modeling.mask_tokens(ids, VOCAB, mask_token_id=0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)


def test_bert_without_mask_token_says_what_to_do():
    spec = tiny("bert")
    with pytest.raises(InvalidSpecError, match=r"\[MASK\]"):
        modeling.compute_loss(modeling.build_model(spec), spec, batch())


def test_masking_always_predicts_at_least_one_token():
    ids = torch.randint(VOCAB, (1, 2))
    for seed in range(30):
        _, labels = modeling.mask_tokens(ids, VOCAB, 0, torch.Generator().manual_seed(seed))
        assert (labels != -100).any()


def test_gpt2_variant_the_lean_model_lacks_trains_as_the_hf_model(tmp_path):
    config = GPT2Config(n_layer=1, n_head=2, n_embd=32, n_positions=16, vocab_size=VOCAB,
                        activation_function="relu", bos_token_id=None, eos_token_id=None)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    model, spec = model_pretrained.load_pretrained(str(tmp_path))
    assert isinstance(model, GPT2LMHeadModel)
    loss = modeling.compute_loss(model, spec, batch(2, 9))
    assert torch.isfinite(loss)


def test_model_kind():
    assert [modeling.model_kind(tiny(a)) for a in ARCHS] == ["causal", "causal", "masked", "lstm"]


def test_lstm_state_continues_a_sequence():
    model = modeling.build_model(tiny("lstm")).eval()
    ids = batch(2, 12)
    with torch.no_grad():
        whole, _ = model(ids)
        first, state = model(ids[:, :5])
        rest, _ = model(ids[:, 5:], state)
    assert whole.shape == (2, 12, VOCAB)
    torch.testing.assert_close(torch.cat([first, rest], dim=1), whole, atol=1e-6, rtol=0)


def test_build_model_rejects_unsupported_options():
    with pytest.raises(InvalidSpecError, match="choose a tokenizer"):
        modeling.build_model(tiny("gpt2", vocab_size=0))
    with pytest.raises(InvalidSpecError, match="bias"):
        modeling.build_model(tiny("gpt2", bias=False))
    with pytest.raises(InvalidSpecError, match="llama"):
        modeling.build_model(tiny("gpt2", n_kv_head=1))
    llama = modeling.build_model(tiny("llama", bias=False))
    assert llama.config.num_key_value_heads == 1 and not llama.config.attention_bias


def test_validate_against_cross_checks():
    pretrained = tiny("gpt2", init_from="some/model")
    modeling.validate_against(pretrained, vocab_size=VOCAB - 10, pretrained_positions=16)
    with pytest.raises(InvalidSpecError, match="model's own tokenizer"):
        modeling.validate_against(pretrained, vocab_size=VOCAB + 1)
    with pytest.raises(InvalidSpecError, match="--block-size 8 or less"):
        modeling.validate_against(pretrained, vocab_size=VOCAB, pretrained_positions=8)
    with pytest.raises(InvalidSpecError, match="tokenizer the model was trained with"):
        modeling.validate_against(tiny("gpt2"), vocab_size=VOCAB + 5)
    with pytest.raises(InvalidSpecError, match="key/value"):
        modeling.validate_against(tiny("llama", n_head=4, n_kv_head=3), vocab_size=VOCAB)
    modeling.validate_against(tiny("lstm", block_size=64), vocab_size=VOCAB, pretrained_positions=16)


def test_load_pretrained_gpt2_folder_becomes_the_lean_gpt(tmp_path):
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=24, vocab_size=VOCAB,
                        bos_token_id=None, eos_token_id=None)
    hf = GPT2LMHeadModel(config).eval()
    hf.save_pretrained(tmp_path)
    model, spec = model_pretrained.load_pretrained(str(tmp_path))
    assert isinstance(model, LeanGPT) and model.training
    assert model.config.activation == "gelu_new"  # OpenAI's GPT-2 keeps its tanh GELU when fine-tuned
    assert (spec.arch, spec.n_layer, spec.n_embd, spec.block_size, spec.vocab_size) == ("gpt2", 2, 32, 24, VOCAB)
    assert spec.init_from == str(tmp_path)
    ids = batch(2, 20)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(ids).logits, hf(input_ids=ids).logits, atol=1e-5, rtol=0)
    modeling.save_model_dir(model, spec, tmp_path / "fine-tuned")  # and keeps it through a checkpoint
    again, _ = modeling.load_model_dir(tmp_path / "fine-tuned", for_training=True)
    assert again.config.activation == "gelu_new"
    assert json.loads((tmp_path / "fine-tuned" / "config.json").read_text())["activation_function"] == "gelu_new"


def test_load_pretrained_llama_folder(tmp_path):
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32)
    LlamaForCausalLM(config).save_pretrained(tmp_path)
    model, spec = model_pretrained.load_pretrained(str(tmp_path))
    assert isinstance(model, LlamaForCausalLM)
    assert (spec.arch, spec.n_head, spec.n_kv_head, spec.block_size) == ("llama", 4, 2, 32)
    modeling.validate_against(dataclasses.replace(spec, block_size=16), vocab_size=VOCAB, pretrained_positions=32)


def test_fine_tuning_dropout_replaces_the_pretrained_rate(tmp_path):
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=32, n_positions=24, vocab_size=VOCAB,
                               bos_token_id=None, eos_token_id=None)).save_pretrained(tmp_path / "gpt2")
    model, spec = model_pretrained.load_pretrained(str(tmp_path / "gpt2"), dropout=0.25)
    assert model.config.dropout == 0.25 and spec.dropout == 0.25
    assert model_pretrained.load_pretrained(str(tmp_path / "gpt2"))[1].dropout == 0.1  # GPT-2's own
    LlamaForCausalLM(LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                 num_attention_heads=4, max_position_embeddings=32)).save_pretrained(tmp_path / "llama")
    model, spec = model_pretrained.load_pretrained(str(tmp_path / "llama"), dropout=0.3)
    assert model.config.attention_dropout == 0.3 and spec.dropout == 0.3


def test_load_pretrained_offline_and_missing_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WorkbenchError, match="offline.*download it first or point to a local folder"):
        model_pretrained.load_pretrained("nobody-has/this-model-xyz")
    with pytest.raises(NotFoundError, match="does not exist"):
        model_pretrained.load_pretrained(str(tmp_path / "missing" / "folder"))
    with pytest.raises(NotFoundError, match="config.json"):
        model_pretrained.load_pretrained(str(tmp_path))


def test_presets_build_with_counts_near_their_approximation():
    for preset in PRESETS.values():
        spec = apply_preset(ModelSpec(arch=preset.arch, vocab_size=preset.vocab_size), preset.name)
        with torch.device("meta"):
            model = modeling.build_model(spec)
        count = sum(p.numel() for p in model.parameters())
        assert abs(count - preset.approx_params) <= 0.1 * preset.approx_params, preset.name
    tiny_spec = apply_preset(ModelSpec(arch="llama", n_kv_head=2, dropout=0.1), "tiny")
    assert (tiny_spec.arch, tiny_spec.n_layer, tiny_spec.n_head, tiny_spec.n_embd, tiny_spec.block_size,
            tiny_spec.n_kv_head, tiny_spec.dropout) == ("llama", 4, 4, 128, 64, 2, 0.1)
    with pytest.raises(InvalidSpecError, match="tiny"):
        apply_preset(ModelSpec(), "enormous")


def test_embeddings_are_tied_unless_chosen_otherwise():
    chars = ModelSpec(arch="gpt2", n_layer=4, n_embd=128, vocab_size=68)
    tied = modeling.build_model(chars)
    untied = modeling.build_model(dataclasses.replace(chars, tie_embeddings=False))
    assert tied.lm_head.weight is tied.transformer.wte.weight
    assert untied.lm_head.weight is not untied.transformer.wte.weight
    assert sum(p.numel() for p in untied.parameters()) - sum(p.numel() for p in tied.parameters()) == 68 * 128


@pytest.mark.parametrize("arch, first, residual, fan_in", [
    ("gpt2", "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight", 512),
    ("llama", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight", 352),
])
def test_models_from_scratch_start_at_the_scale_of_their_width(arch, first, residual, fan_in):
    torch.manual_seed(0)
    spec = ModelSpec(arch=arch, n_layer=4, n_head=4, n_embd=128, vocab_size=68)
    params = dict(modeling.build_model(spec).named_parameters())
    assert float(params[first].detach().std()) == pytest.approx(128 ** -0.5, rel=0.05)
    assert float(params[residual].detach().std()) == pytest.approx(fan_in ** -0.5 / math.sqrt(8), rel=0.05)
    embedding = "transformer.wte.weight" if arch == "gpt2" else "model.embed_tokens.weight"
    assert float(params[embedding].detach().std()) == pytest.approx(0.02, rel=0.1)


def test_bert_keeps_hugging_faces_initialisation():
    torch.manual_seed(0)
    model = modeling.build_model(ModelSpec(arch="bert", n_layer=2, n_head=2, n_embd=128, vocab_size=68))
    query = dict(model.named_parameters())["bert.encoder.layer.0.attention.self.query.weight"]
    assert float(query.detach().std()) == pytest.approx(0.02, rel=0.1)
