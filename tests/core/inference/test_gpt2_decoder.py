"""The lean GPT-2 decoder (speed, issue 14): the same logits as the model itself, token by token and
across a window slide, on the parameters as they are when a generation starts; hooked models and attention capture still run the
model; greedy text stays equal to transformers' `generate`."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from tests.core.inference.test_kv_cache import Letters
from workbench.core.base.events import run_to_end
from workbench.core.base.specs import SampleSpec
from workbench.core.inference.generation import generate
from workbench.core.inference.gpt2_decoder import supports
from workbench.core.inference.models import CachedCausalLM, LeanCachedLM, WindowedLM, make_stepper
from workbench.core.models.lean_gpt import LeanGPT, LeanGPTConfig

VOCAB, POSITIONS = 40, 16


def hf_gpt2(activation: str = "gelu_new", **options) -> GPT2LMHeadModel:
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_layer=2, n_head=2, n_embd=32,
                        activation_function=activation, bos_token_id=None, eos_token_id=None, **options)
    return GPT2LMHeadModel(config).eval()


def lean_gpt() -> LeanGPT:
    torch.manual_seed(0)
    return LeanGPT(LeanGPTConfig(vocab_size=VOCAB, block_size=POSITIONS, n_layer=2, n_head=2, n_embd=32)).eval()


def full_logits(model, window: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=torch.tensor([window])).logits[0, -1].float()


@pytest.mark.parametrize("make_model", [hf_gpt2, lambda: hf_gpt2("gelu"), lean_gpt],
                         ids=["gelu_new", "gelu", "lean"])
def test_decoder_logits_equal_the_model_across_a_slide(make_model):
    model = make_model()
    stepper = make_stepper(model, torch.device("cpu"))
    assert isinstance(stepper, LeanCachedLM)
    logits = stepper.prime([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
    torch.testing.assert_close(logits, full_logits(model, stepper.window), rtol=1e-5, atol=1e-5)
    caches = {id(stepper.cache)}
    for step in range(11):  # 10 + 11 tokens: the 16-token window slides once (to its last 12), then fills again
        logits = stepper.advance(int(logits.argmax()))
        assert stepper.cache.get_seq_length() == len(stepper.window) <= POSITIONS
        torch.testing.assert_close(logits, full_logits(model, stepper.window), rtol=1e-5, atol=1e-5,
                                   msg=f"step {step}")
        caches.add(id(stepper.cache))
    assert len(caches) == 2  # positions restart after the slide: a fresh cache


def test_decoder_reads_the_parameters_as_they_are_now():
    model = hf_gpt2()
    before = make_stepper(model, torch.device("cpu")).prime([1, 2, 3])
    with torch.no_grad():
        model.transformer.h[0].mlp.c_fc.weight.mul_(2.0)  # an optimizer step, in place
    stepper = make_stepper(model, torch.device("cpu"))  # the next generation
    after = stepper.prime([1, 2, 3])
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, full_logits(model, [1, 2, 3]), rtol=1e-5, atol=1e-5)


def test_hooks_attention_capture_and_unsupported_options_run_the_model_itself():
    assert isinstance(make_stepper(hf_gpt2(), torch.device("cpu"), capture_attention=True), CachedCausalLM)
    assert not isinstance(make_stepper(hf_gpt2(), torch.device("cpu"), capture_attention=True), LeanCachedLM)
    hooked = hf_gpt2()
    hooked.transformer.h[1].attn.register_forward_hook(lambda *_: None)
    assert not supports(hooked)
    assert not supports(hf_gpt2(scale_attn_by_inverse_layer_idx=True))
    assert not supports(hf_gpt2(reorder_and_upcast_attn=True))
    assert type(make_stepper(hf_gpt2(reorder_and_upcast_attn=True), torch.device("cpu"))) is CachedCausalLM
    assert not isinstance(make_stepper(lean_gpt(), torch.device("cpu")), WindowedLM)


def test_a_prompt_longer_than_the_context_is_cut_to_the_window():
    model = hf_gpt2()
    stepper = make_stepper(model, torch.device("cpu"))
    prompt = list(range(30))
    torch.testing.assert_close(stepper.prime(prompt), full_logits(model, prompt[-POSITIONS:]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ["gelu_new", "gelu"])
def test_greedy_text_equals_transformers_generate(activation):
    model = hf_gpt2(activation)
    tok = Letters()
    prompt = "hello there"
    events, _ = run_to_end(generate(model, tok, prompt, SampleSpec(max_new_tokens=5, temperature=0)))
    ids = torch.tensor([tok.encode(prompt)])
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=0)
    assert [e.token_id for e in events] == out[0, ids.shape[1]:].tolist()



def hf_cached_logits(model, prompt: list[int], steps: int) -> list[torch.Tensor]:
    """transformers' own incremental decoding: the prompt, then one greedy token at a time."""
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([prompt]), use_cache=True)
        logits = [out.logits[0, -1].float()]
        for _ in range(steps):
            out = model(input_ids=logits[-1].argmax().view(1, 1), cache=out.past_key_values, use_cache=True)
            logits.append(out.logits[0, -1].float())
    return logits


@pytest.mark.parametrize("activation", ["gelu", "gelu_new"])
def test_decoder_logits_against_transformers_decoding_step_by_step(activation):
    """Each new token's logits bit for bit with "gelu"; "gelu_new" runs PyTorch's tanh-GELU kernel where
    transformers runs a Python formula of it, so there they agree within float rounding, as do the
    prompt's (the head runs on its last position only, transformers' on all of them)."""
    model = hf_gpt2(activation)
    stepper = make_stepper(model, torch.device("cpu"))
    ours = [stepper.prime([3, 1, 4, 1, 5])]
    for _ in range(6):
        ours.append(stepper.advance(int(ours[-1].argmax())))
    theirs = hf_cached_logits(model, [3, 1, 4, 1, 5], 6)
    for step, (mine, hf) in enumerate(zip(ours, theirs, strict=True)):
        if activation == "gelu" and step > 0:
            assert torch.equal(mine, hf), f"step {step}"
        else:
            torch.testing.assert_close(mine, hf, rtol=1e-5, atol=1e-5, msg=f"step {step}")
