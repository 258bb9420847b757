"""The KV cache of HF causal models: passed with transformers' current API (`cache=`, a
`DynamicCache`), never the deprecated `past_key_values=`; it grows by one token per step and gives
the same logits as reading the whole window again, also across a window slide."""

from __future__ import annotations

import warnings

import pytest
import torch
from transformers import DynamicCache, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.events import run_to_end
from workbench.core.base.specs import SampleSpec
from workbench.core.inference.generation import generate
from workbench.core.inference.models import CachedCausalLM, make_stepper

VOCAB = 40
POSITIONS = 16


def tiny_gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_layer=2, n_head=2, n_embd=32,
                        bos_token_id=None, eos_token_id=None)
    return GPT2LMHeadModel(config).eval()


def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=POSITIONS,
                         bos_token_id=None, eos_token_id=None, pad_token_id=None)
    return LlamaForCausalLM(config).eval()


class Letters:
    eos_token_id = None
    vocab_size = VOCAB

    def encode(self, text: str) -> list[int]:
        return [(ord(c) - 60) % VOCAB for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i + 60) for i in ids)

    def token_text(self, token_id: int) -> str:
        return chr(token_id + 60)


@pytest.mark.parametrize("make_model", [tiny_gpt2, tiny_llama])
def test_generation_uses_the_cache_keyword_not_the_deprecated_one(make_model):
    model = make_model()
    seen: list[dict] = []
    model.register_forward_pre_hook(lambda _module, _args, kwargs: seen.append(dict(kwargs)), with_kwargs=True)
    with warnings.catch_warnings():
        # transformers 5.24 warns "`past_key_values` is deprecated ... removed in 5.40. Use `cache`"
        warnings.simplefilter("error", FutureWarning)
        events, _ = run_to_end(generate(model, Letters(), "hello there",
                                        SampleSpec(max_new_tokens=12, temperature=0)))
    assert len(events) == 12 and len(seen) == 12  # the prompt in one pass, then one pass per token
    assert not any("past_key_values" in kwargs for kwargs in seen)
    assert all(isinstance(kwargs.get("cache"), DynamicCache) for kwargs in seen)


@pytest.mark.parametrize("make_model", [tiny_gpt2, tiny_llama])
def test_cached_logits_equal_a_full_recompute_across_a_slide(make_model):
    model = make_model()
    stepper = make_stepper(model, torch.device("cpu"))
    assert isinstance(stepper, CachedCausalLM)
    prompt = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    logits = stepper.prime(prompt)
    assert stepper.cache.get_seq_length() == len(prompt)
    caches = {id(stepper.cache)}
    for step in range(11):  # 10 + 11 tokens: the 16-token window slides once (to its last 12), then fills again
        token = int(logits.argmax())
        logits = stepper.advance(token)
        assert stepper.cache.get_seq_length() == len(stepper.window) <= POSITIONS
        with torch.inference_mode():
            full = model(input_ids=torch.tensor([stepper.window])).logits[0, -1].float()
        torch.testing.assert_close(logits, full, rtol=1e-4, atol=1e-4, msg=f"step {step}")
        caches.add(id(stepper.cache))
    assert len(caches) == 2  # one cache until the slide, a fresh one after it


def test_continue_ids_follow_the_prompt_as_they_are_and_foreign_ids_are_refused():
    """A branch continues from exact token ids after its prompt: the same text as that whole text
    encoded, here where the letters tokenizer encodes piece by piece alike."""
    model, tok = tiny_gpt2(), Letters()
    spec = SampleSpec(max_new_tokens=6, temperature=0)
    events, _ = run_to_end(generate(model, tok, "hello", spec, continue_ids=tok.encode(" there")))
    whole, _ = run_to_end(generate(model, tok, "hello there", spec))
    assert [e.token_id for e in events] == [e.token_id for e in whole]
    for e in events:  # each alternative's id is the token it names
        assert [tok.token_text(i) for i in e.alternative_ids] == [name for name, _ in e.alternatives]
    for bad in ([VOCAB], [-1], [True]):
        with pytest.raises(InvalidSpecError, match="vocabulary"):
            run_to_end(generate(model, tok, "hello", spec, continue_ids=bad))
