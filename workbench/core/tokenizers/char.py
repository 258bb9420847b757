"""Character-level tokenizer: one token per Unicode code point seen in the training text.

The vocabulary is the reserved special tokens (first ids) followed by every code point of the
training split, sorted by code point. Characters that were not in the training split map to
``<unk>``; decoding shows each ``<unk>`` as U+FFFD (the replacement character), so decoded text
keeps one character per unknown character. A literal special-token string in the text (for example
``<|endoftext|>`` between documents) encodes to that special token, as in Hugging Face tokenizers.

The saved ``tokenizer.json`` is a `tokenizers` WordLevel model over single characters (a Split
pre-tokenizer isolating each code point, a decoder that joins without spaces), so
`transformers.AutoTokenizer` loads it. Our own encoder gives the same ids from a numpy lookup
table indexed by code point, which is far faster than the general pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path

import numpy as np
from tokenizers import AddedToken, Regex, decoders, models, pre_tokenizers
from tokenizers import Tokenizer as BackendTokenizer

from workbench.core.base.events import Progress
from workbench.core.tokenizers.text import iter_text_chunks

UNK_TOKEN = "<unk>"
UNK_DISPLAY = "\ufffd"
UNKNOWN_POLICY = ("characters not seen in the training text encode to <unk>; "
                  "decode shows each <unk> as U+FFFD (\ufffd)")
_CODEPOINTS = 0x110000


def _codepoints(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate becomes its own (unknown) code point instead of an error.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def collect_characters(path: Path, specials: Sequence[str],
                       chunk_chars: int = 1 << 20) -> Generator[Progress, None, list[str]]:
    """Every code point in the file (special-token strings excluded), sorted; Progress per chunk."""
    total = path.stat().st_size
    seen = np.zeros(_CODEPOINTS, dtype=bool)
    for chunk, done in iter_text_chunks(path, chunk_chars):
        for special in specials:
            if special in chunk:
                chunk = chunk.replace(special, "")
        seen[_codepoints(chunk)] = True
        yield Progress("train-tokenizer", done, total, unit="bytes", message="collecting characters")
    return [chr(cp) for cp in np.flatnonzero(seen) if not 0xD800 <= cp <= 0xDFFF]


def char_vocab(chars: Sequence[str], specials: Sequence[str]) -> dict[str, int]:
    """Special tokens first (in the given order), then the characters."""
    vocab: dict[str, int] = {}
    for token in [*specials, *chars]:
        vocab.setdefault(token, len(vocab))
    return vocab


def build_char_backend(vocab: Mapping[str, int], specials: Sequence[str]) -> BackendTokenizer:
    """A `tokenizers` pipeline equivalent to `CharCodec` (used for the saved tokenizer.json)."""
    backend = BackendTokenizer(models.WordLevel(dict(vocab), unk_token=UNK_TOKEN))
    # [\s\S] isolates every code point, newlines and CR/LF pairs included.
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    backend.decoder = decoders.Sequence([decoders.Replace(UNK_TOKEN, UNK_DISPLAY), decoders.Fuse()])
    backend.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return backend


class CharCodec:
    """Fast character encoding: a code point -> id table, special-token strings matched first."""

    def __init__(self, vocab: Mapping[str, int], specials: Sequence[str], unk_id: int) -> None:
        self.table = np.full(_CODEPOINTS, unk_id, dtype=np.uint32)
        for token, token_id in vocab.items():
            if len(token) == 1 and token not in specials:
                self.table[ord(token)] = token_id
        self.special_ids = {s: vocab[s] for s in specials}
        # Longest first, so the regex finds the leftmost-longest match like `tokenizers` does.
        ordered = sorted(specials, key=len, reverse=True)
        self._special_re = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def encode(self, text: str) -> np.ndarray:
        if self._special_re is None or not any(s in text for s in self.special_ids):
            return self.table[_codepoints(text)]
        parts: list[np.ndarray] = []
        position = 0
        for match in self._special_re.finditer(text):
            if match.start() > position:
                parts.append(self.table[_codepoints(text[position:match.start()])])
            parts.append(np.array([self.special_ids[match.group()]], dtype=np.uint32))
            position = match.end()
        parts.append(self.table[_codepoints(text[position:])])
        return np.concatenate(parts)

    @classmethod
    def from_backend(cls, backend: BackendTokenizer) -> CharCodec:
        added = backend.get_added_tokens_decoder()
        specials = [token.content for _, token in sorted(added.items()) if token.special]
        unk_id = backend.token_to_id(UNK_TOKEN)
        if unk_id is None:
            raise ValueError("a character tokenizer needs an <unk> token")
        return cls(backend.get_vocab(with_added_tokens=False), specials, unk_id)
