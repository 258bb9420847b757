"""Sampling text from a model, one token per yield, and BERT's fill-in-the-blank.

`generate` is a core generator (DESIGN.md section 3): it yields a `TokenGenerated` for every
token, with the model's probability for it, the top-5 alternatives and the running
log-probability, and returns the finished texts. Each yield is a cancellation point: `close()`
stops it before the next forward pass.

Probabilities reported are the model's own (softmax of the raw logits, temperature 1, before any
filter), so they say what the model believes regardless of the sampling settings, and
`logprob_total` is the log-likelihood of the continuation under the model.

Text is decoded incrementally in a way that is right for byte-level BPE, where one token can be
half of a UTF-8 character: the continuation is decoded as a whole (its settled part kept as text,
so each step decodes only the last few tokens) and only its new, complete suffix is emitted; an
unfinished character (U+FFFD at the end) and anything that could be the start of a stop string are
held back until the next token settles them. Generation ends at `max_new_tokens`, at a stop string
(trimmed from the text) or at the tokenizer's end-of-text token (not part of the text).

When sampling (temperature above 0), special tokens other than end-of-text (`[MASK]`, `<unk>`, ...)
are never drawn: a causal model never sees them as targets, yet an early checkpoint still gives
them weight, and they would show up as "[MASK]" or U+FFFD in the text. Their probabilities are
still reported among the alternatives. Greedy decoding takes the plain argmax, so it stays equal to
transformers' `generate`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Generator, Sequence
from contextlib import nullcontext

import torch
from torch import nn

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.events import TokenGenerated
from workbench.core.base.specs import SampleSpec
from workbench.core.inference.models import context_size, is_masked_lm, make_stepper
from workbench.core.inference.sampling import choose_token, process_logits
from workbench.core.inference.token_probs import TokenTexts, sampler_view
from workbench.core.models.attention_hooks import eager_attention, is_hf_model, place_model, unwrap
from workbench.core.tokenizers.protocol import Tokenizer

ALTERNATIVES = 5
MASK_TEXT = "[MASK]"


def generate(model: nn.Module, tokenizer: Tokenizer, prompt: str, spec: SampleSpec, *, device: str | None = None,
             return_attention: bool = False, continue_ids: Sequence[int] = ()) -> Generator[TokenGenerated, None, list[str]]:
    """Sample `spec.num_samples` continuations of `prompt`, one after the other.

    Sample i draws from its own `torch.Generator` seeded with `spec.seed + i` (a random seed when
    `spec.seed` is None), so the same seed and settings give the same texts on any device.
    With `return_attention`, each event's `attention` holds the float16 [layers, heads, keys] row of
    the step that produced it (HF models only; eager attention is used for this call).
    `device` moves the model there first; None runs it where it is. The model is put in eval mode
    and given back in the mode it came in (the trainer samples from its training model).
    `continue_ids` follow the encoded prompt as they are: a branch of an earlier text continues from
    its exact tokens, where encoding its text again could split them differently.
    """
    spec.validate()
    model = unwrap(model)
    prompt_ids = _prompt_ids(tokenizer, prompt) + _checked_ids(tokenizer, continue_ids)
    capture = return_attention and is_hf_model(model)
    stepper = make_stepper(model, place_model(model, device), capture_attention=capture)
    base_seed = spec.seed if spec.seed is not None else secrets.randbits(62)
    texts: list[str] = []
    was_training = model.training
    model.eval()
    try:
        with eager_attention(model) if capture else nullcontext():
            for sample in range(spec.num_samples):
                generator = torch.Generator().manual_seed(base_seed + sample)
                text = yield from _sample_one(stepper, tokenizer, prompt_ids, spec, sample, generator)
                texts.append(text)
    finally:
        model.train(was_training)
    return texts


def _prompt_ids(tokenizer: Tokenizer, prompt: str) -> list[int]:
    ids = list(tokenizer.encode(prompt)) if prompt else []
    if ids:
        return ids
    eos = getattr(tokenizer, "eos_token_id", None)
    if eos is None:
        raise InvalidSpecError("the prompt is empty and this tokenizer has no start token; type a prompt")
    return [eos]  # start from a document boundary, as GPT-2 does


def _checked_ids(tokenizer: Tokenizer, ids: Sequence[int]) -> list[int]:
    """`ids` from a project (untrusted), each a token of `tokenizer`."""
    vocab = tokenizer.vocab_size
    if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < vocab for i in ids):
        raise InvalidSpecError(f"the saved tokens to continue from are not all in this tokenizer's vocabulary "
                               f"of {vocab}; generate from the text instead")
    return list(ids)


def _sample_one(stepper, tokenizer: Tokenizer, prompt_ids: list[int], spec: SampleSpec, sample: int,
                generator: torch.Generator) -> Generator[TokenGenerated, None, str]:
    eos = getattr(tokenizer, "eos_token_id", None)
    banned = _unsampled_specials(tokenizer, eos) if spec.temperature > 0 else None
    decoder = _ContinuationDecoder(tokenizer, prompt_ids[-1:])
    names = _TokenNames(tokenizer)
    texts = TokenTexts(tokenizer)
    seen = list(prompt_ids)
    generated: list[int] = []
    emitted = ""
    logprob_total = 0.0
    logits = stepper.prime(prompt_ids)
    if banned is not None:
        banned = banned.to(logits.device)  # once, not per token
    for index in range(spec.max_new_tokens):
        seen_tensor = (torch.tensor(seen, dtype=torch.long, device=logits.device)
                       if spec.repetition_penalty != 1.0 else None)
        allowed = logits if banned is None else logits.index_fill(-1, banned, float("-inf"))
        processed = process_logits(allowed, seen_tensor, spec)
        token = choose_token(processed, spec, generator)
        prob, alternatives, top_ids = _model_probabilities(logits, token, names)
        logprob_total += math.log(max(prob, 1e-45))
        finished = token == eos or index == spec.max_new_tokens - 1
        if token != eos:
            generated.append(token)
            seen.append(token)
        text = decoder.decode(generated)
        cut = _first_stop(text, spec.stop)
        if cut is not None:
            text, finished = text[:cut], True
        ready = text if finished else _settled_prefix(text, spec.stop)
        piece = ready[len(emitted):]  # `ready` extends `emitted`: nothing unsettled was emitted
        emitted += piece
        yield TokenGenerated(sample=sample, index=index, token_id=token, text=piece, prob=prob,
                             logprob_total=logprob_total, alternatives=alternatives,
                             attention=stepper.attention, **sampler_view(processed, token, top_ids, spec, texts))
        if finished:
            break
        logits = stepper.advance(token)
    return emitted


def _unsampled_specials(tokenizer: Tokenizer, eos: int | None) -> torch.Tensor | None:
    ids = sorted(set(getattr(tokenizer, "special_tokens", {}).values()) - {eos})
    vocab = getattr(tokenizer, "vocab_size", None)
    if not ids or (vocab is not None and len(ids) >= vocab):
        return None
    return torch.tensor(ids, dtype=torch.long)


def _model_probabilities(logits: torch.Tensor, token: int,
                         names: _TokenNames) -> tuple[float, tuple[tuple[str, float], ...], list[int]]:
    probs = logits.softmax(-1)
    top_values, top_ids = torch.topk(probs, min(ALTERNATIVES, probs.numel()))
    ids = top_ids.tolist()
    alternatives = tuple((names[i], p) for i, p in zip(ids, top_values.tolist(), strict=True))
    return float(probs[token]), alternatives, ids


class _TokenNames(dict):
    """`tokenizer.token_text` per id, remembered: the same few ids come up as alternatives again and again."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer

    def __missing__(self, token_id: int) -> str:
        text = self[token_id] = self.tokenizer.token_text(int(token_id))
        return text


class _ContinuationDecoder:
    """Decodes the generated ids so far, in time bounded by a few tokens per call.

    Text is decoded after an anchor token (the last one already settled), so tokenizers that treat
    the first token of a text specially (SentencePiece's leading space) still decode it in context.
    Once the tail decodes to whole characters, it is settled: appended to `settled` and the anchor
    moves to its last token. (Byte-level BPE decodes byte-wise, so text cut at a character
    boundary decodes the same in pieces as in one go.)
    """

    SETTLE_AFTER = 8  # tokens

    def __init__(self, tokenizer: Tokenizer, anchor: list[int]) -> None:
        self.tokenizer = tokenizer
        self.settled = ""
        self.start = 0  # generated[:start] is decoded into `settled`
        self._set_anchor(anchor)

    def _set_anchor(self, anchor: list[int]) -> None:
        self.anchor = anchor
        self.anchor_text = self.tokenizer.decode(anchor) if anchor else ""

    def decode(self, ids: list[int]) -> str:
        tail_ids = ids[self.start:]
        if not tail_ids:
            return self.settled
        text = self.tokenizer.decode(self.anchor + tail_ids)
        if self.anchor_text and text.startswith(self.anchor_text):
            tail = text[len(self.anchor_text):]
        else:
            tail = self.tokenizer.decode(tail_ids)
        if len(tail_ids) >= self.SETTLE_AFTER and not tail.endswith("\ufffd"):
            self.settled += tail
            self.start = len(ids)
            self._set_anchor(ids[-1:])
            return self.settled
        return self.settled + tail


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


def _settled_prefix(text: str, stops: Sequence[str]) -> str:
    """`text` minus a trailing unfinished UTF-8 character and minus any tail that could still grow
    into a stop string."""
    end = len(text.rstrip("\ufffd"))
    held = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, end), 0, -1):
            if text[end - size:end] == stop[:size]:
                held = max(held, size)
                break
    return text[:end - held]


# ---- fill-mask (BERT) ----------------------------------------------------------------------------

def fill_mask(model: nn.Module, tokenizer: Tokenizer, text: str, top_k: int = 5, *,
              device: str | None = None) -> list[list[tuple[str, float]]]:
    """The `top_k` most likely tokens (text, probability) for each `[MASK]` in `text`, in order."""
    model = unwrap(model)
    if not is_masked_lm(model):
        raise WorkbenchError("fill-mask needs a masked language model (a BERT run); "
                             "causal models continue text: remove [MASK] from the prompt")
    mask_id = getattr(tokenizer, "mask_token_id", None)
    if mask_id is None:
        raise WorkbenchError("this tokenizer has no [MASK] token, so the model cannot fill blanks; "
                             "train the run with a tokenizer made by LM Workbench")
    if MASK_TEXT not in text:
        raise InvalidSpecError(f"put {MASK_TEXT} where the model should guess a word, e.g. 'To be or {MASK_TEXT} to be'")
    ids = mask_ids(tokenizer, text, mask_id)
    limit = context_size(model)
    if limit is not None and len(ids) > limit:
        raise InvalidSpecError(f"the text is {len(ids)} tokens but the model reads at most {limit}; shorten it")
    input_ids = torch.tensor([ids], dtype=torch.long, device=place_model(model, device))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            logits = model(input_ids=input_ids).logits[0]
    finally:
        model.train(was_training)
    positions = [i for i, t in enumerate(ids) if t == mask_id]
    probs = logits[positions].float().softmax(-1)
    special = sorted(set(getattr(tokenizer, "special_tokens", {}).values()))
    if special and len(special) < probs.shape[-1]:
        probs[:, special] = 0.0  # [MASK] or <unk> is never a useful guess; the others keep their probabilities
    top = torch.topk(probs, min(top_k, probs.shape[-1] - len(special)))
    return [[(tokenizer.token_text(int(i)), float(p)) for i, p in zip(idx, val, strict=True)]
            for idx, val in zip(top.indices.tolist(), top.values.tolist(), strict=True)]


def mask_ids(tokenizer: Tokenizer, text: str, mask_id: int) -> list[int]:
    """Encode `text` with each `[MASK]` as the mask token, whatever the tokenizer does with the
    literal string (the pieces between masks are encoded separately, as HF does for added tokens)."""
    ids: list[int] = []
    for i, piece in enumerate(text.split(MASK_TEXT)):
        if i:
            ids.append(mask_id)
        if piece:
            ids.extend(tokenizer.encode(piece))
    return ids
