"""Tokenizers behind one interface: character level, byte-level BPE, or pretrained.

- ``char``: one token per Unicode code point of the training text. Unseen characters encode to
  ``<unk>`` and decode as U+FFFD (see `workbench.core.tokenizers.char`).
- ``bpe``: byte-level BPE trained with `tokenizers`; no unknown tokens, exact round trips.
- ``pretrained``: a Hugging Face tokenizer from a local folder or a hub id (never remote code).

Every tokenizer this app trains reserves special tokens with stable ids: ``<|endoftext|>`` = 0,
``[MASK]`` = 1, then (char only) ``<unk>`` = 2, then the spec's other special tokens in order.
A literal special-token string in the text encodes to that token. ``encode`` never adds
BOS/EOS/CLS tokens, and ``decode`` keeps special tokens and does no space clean-up, so text
round-trips. ``save(dir)`` writes ``tokenizer.json``, ``tokenizer_config.json`` and
``special_tokens_map.json`` (loadable with ``transformers.AutoTokenizer``) plus our own
``workbench_tokenizer.json`` (the metadata returned by `WorkbenchTokenizer.describe`).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tokenizers import Tokenizer as BackendTokenizer

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.events import Progress
from workbench.core.base.specs import TokenizerSpec, spec_to_dict
from workbench.core.tokenizers.bpe import train_bpe
from workbench.core.tokenizers.char import (
    UNK_TOKEN,
    UNKNOWN_POLICY,
    CharCodec,
    build_char_backend,
    char_vocab,
    collect_characters,
)
from workbench.core.tokenizers.display import byte_level_piece_text, plain_piece_text, visible
from workbench.core.tokenizers.pretrained import load_pretrained_tokenizer
from workbench.core.tokenizers.text import split_pieces

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

EOS_TOKEN = "<|endoftext|>"
MASK_TOKEN = "[MASK]"
METADATA_FILE = "workbench_tokenizer.json"
METADATA_FORMAT = 1
# BPE text longer than this is encoded as pieces cut at exact boundaries, in parallel.
BPE_PIECE_CHARS = 1 << 16
_POLICIES = {
    "char": UNKNOWN_POLICY,
    "bpe": "byte-level: every string encodes exactly, there is no unknown token",
    "pretrained": "as the pretrained tokenizer defines it",
}


def reserved_special_tokens(spec: TokenizerSpec) -> list[str]:
    """The special tokens of a trained tokenizer, in id order, checked."""
    tokens = [EOS_TOKEN, MASK_TOKEN, *([UNK_TOKEN] if spec.kind == "char" else [])]
    for token in spec.special_tokens:
        if not token or any(ch.isspace() for ch in token):
            raise InvalidSpecError(f"special token {token!r} must be non-empty and contain no whitespace")
        if token not in tokens:
            tokens.append(token)
    return tokens


class WorkbenchTokenizer:
    """A tokenizer of any kind (satisfies the `Tokenizer` protocol). `backend` is the
    `tokenizers.Tokenizer` pipeline it saves."""

    def __init__(self, backend: BackendTokenizer, kind: str, meta: dict[str, Any] | None = None,
                 hf: PreTrainedTokenizerFast | None = None, source_dir: Path | None = None) -> None:
        backend.no_truncation()
        backend.no_padding()
        self.backend = backend
        self.kind = kind
        self._hf = hf
        self._source_dir = source_dir
        meta = dict(meta or {})
        vocab = backend.get_vocab(with_added_tokens=True)
        self.vocab_size: int = max(vocab.values(), default=-1) + 1
        names = {"eos": EOS_TOKEN, "mask": MASK_TOKEN, "unk": UNK_TOKEN if kind == "char" else None}
        if hf is not None:
            names = {"eos": hf.eos_token, "mask": hf.mask_token, "unk": hf.unk_token}
        names = {key: meta.get(f"{key}_token", value) for key, value in names.items()}
        self.eos_token_id: int | None = vocab.get(names["eos"]) if names["eos"] else None
        self.mask_token_id: int | None = vocab.get(names["mask"]) if names["mask"] else None
        self.unk_token_id: int | None = vocab.get(names["unk"]) if names["unk"] else None
        added = backend.get_added_tokens_decoder()
        self.special_tokens = {t.content: i for i, t in sorted(added.items()) if t.special}
        self._codec = CharCodec.from_backend(backend) if kind == "char" else None
        self._byte_level = "ByteLevel" in json.dumps(json.loads(backend.to_str()).get("decoder"))
        self._meta = {
            "format": METADATA_FORMAT, "kind": kind, "vocab_size": self.vocab_size,
            "eos_token": names["eos"], "mask_token": names["mask"], "unk_token": names["unk"],
            "special_tokens": self.special_tokens, "unknown_policy": _POLICIES.get(kind, ""),
            "spec": meta.get("spec"), "source": meta.get("source"),
        }

    def __repr__(self) -> str:
        return f"WorkbenchTokenizer(kind={self.kind!r}, vocab_size={self.vocab_size})"

    def describe(self) -> dict[str, Any]:
        """JSON-friendly metadata: kind, sizes, special tokens and ids, unknown-character policy."""
        return json.loads(json.dumps(self._meta))

    # ---- encoding ------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        if self._codec is not None or (self.kind == "bpe" and len(text) > 2 * BPE_PIECE_CHARS):
            return self.encode_array(text).tolist()
        return self.backend.encode(text, add_special_tokens=False).ids

    def encode_array(self, text: str) -> np.ndarray:
        """Token ids as a uint32 array (the fast path used for token caches)."""
        if self._codec is not None:
            return self._codec.encode(text)
        if self.kind == "bpe" and len(text) > 2 * BPE_PIECE_CHARS:
            pieces = self._encode_many(split_pieces(text, BPE_PIECE_CHARS))
            return np.concatenate([np.asarray(ids, dtype=np.uint32) for ids in pieces])
        return np.asarray(self.backend.encode(text, add_special_tokens=False).ids, dtype=np.uint32)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        if self._codec is not None:
            return [self._codec.encode(text).tolist() for text in texts]
        return self._encode_many(texts)

    def _encode_many(self, texts: list[str]) -> list[list[int]]:
        encode = getattr(self.backend, "encode_batch_fast", self.backend.encode_batch)
        return [encoding.ids for encoding in encode(texts, add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode([int(i) for i in ids], skip_special_tokens=False)

    def token_text(self, token_id: int) -> str:
        """The token for display: bytes decoded, space '·', newline '⏎', tab '→'."""
        piece = self.backend.id_to_token(int(token_id))
        if piece is None:
            return "\ufffd"
        if piece in self.special_tokens or self.kind == "char":
            return visible(piece)
        if self._byte_level:
            return visible(byte_level_piece_text(piece))
        return visible(plain_piece_text(piece))

    # ---- Hugging Face files ----------------------------------------------------------------------
    def to_hf(self) -> PreTrainedTokenizerFast:
        if self._hf is not None:
            return self._hf
        from transformers import PreTrainedTokenizerFast

        if self.kind == "pretrained" and self._source_dir is not None:
            self._hf = load_pretrained_tokenizer(str(self._source_dir))  # a local folder: no hub
            return self._hf
        names = {key: self._meta[f"{key}_token"] for key in ("eos", "mask", "unk")}
        self._hf = PreTrainedTokenizerFast(
            tokenizer_object=BackendTokenizer.from_str(self.backend.to_str()),
            clean_up_tokenization_spaces=False,
            **{f"{key}_token": value for key, value in names.items() if value is not None})
        return self._hf

    def save(self, out_dir: Path) -> None:
        """Write tokenizer.json + tokenizer_config.json + special_tokens_map.json + our metadata.

        Trained tokenizers write the Hugging Face files directly (no transformers import, so the
        command line stays quick); `tokenizer_class` PreTrainedTokenizerFast loads in transformers
        4 and 5. Pretrained ones are saved by their own class with `save_pretrained`.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        named = {f"{k}_token": self._meta[f"{k}_token"] for k in ("eos", "mask", "unk")}
        named = {k: v for k, v in named.items() if v is not None}
        if self.kind == "pretrained":
            self.to_hf().save_pretrained(out_dir)
        if self.kind != "pretrained" or not (out_dir / "tokenizer.json").exists():
            self.backend.save(str(out_dir / "tokenizer.json"))
        if not (out_dir / "tokenizer_config.json").exists():
            _write_json(out_dir / "tokenizer_config.json", {
                "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False, **named})
        if not (out_dir / "special_tokens_map.json").exists():
            _write_json(out_dir / "special_tokens_map.json", named)
        _write_json(out_dir / METADATA_FILE, self._meta)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def train_tokenizer(spec: TokenizerSpec, train_text: Path | None,
                    out_dir: Path) -> Generator[Progress, None, WorkbenchTokenizer]:
    """Build the tokenizer `spec` describes from `train_text`, save it into `out_dir`, return it.

    Yields `Progress` at least once per chunk of text (about 1 MB). For "pretrained" the text is
    not used. Nothing is written to `out_dir` before the tokenizer is complete.
    """
    spec.validate()
    meta = {"spec": spec_to_dict(spec), "source": spec.source}
    if spec.kind == "pretrained":
        yield Progress("load-tokenizer", 0, 1, unit="steps", message=f"loading {spec.source}")
        hf = load_pretrained_tokenizer(str(spec.source))
        backend = BackendTokenizer.from_str(hf.backend_tokenizer.to_str())
        tokenizer = WorkbenchTokenizer(backend, "pretrained", meta, hf=hf)
    else:
        specials = reserved_special_tokens(spec)
        path = Path(train_text) if train_text is not None else None
        if path is None or not path.is_file():
            raise WorkbenchError(f"training text {path} does not exist; import the dataset again")
        if path.stat().st_size == 0:
            raise WorkbenchError(f"training text {path} is empty; import a dataset that has text")
        if spec.kind == "char":
            chars = yield from collect_characters(path, specials)
            backend = build_char_backend(char_vocab(chars, specials), specials)
        else:
            backend = yield from train_bpe(path, spec.vocab_size, spec.min_frequency, specials)
        tokenizer = WorkbenchTokenizer(backend, spec.kind, meta)
    yield Progress("save-tokenizer", 0, 1, unit="steps", message=f"{tokenizer.vocab_size} tokens")
    tokenizer.save(Path(out_dir))
    yield Progress("save-tokenizer", 1, 1, unit="steps", message=f"{tokenizer.vocab_size} tokens")
    return tokenizer


def load_tokenizer(tokenizer_dir: Path) -> WorkbenchTokenizer:
    """Load a folder written by `WorkbenchTokenizer.save` (or any folder with a Hugging Face tokenizer.json)."""
    tokenizer_dir = Path(tokenizer_dir)
    meta_path = tokenizer_dir / METADATA_FILE
    if not meta_path.exists():
        hf = load_pretrained_tokenizer(str(tokenizer_dir.resolve()))
        backend = BackendTokenizer.from_str(hf.backend_tokenizer.to_str())
        return WorkbenchTokenizer(backend, "pretrained", {"source": str(tokenizer_dir)}, hf=hf)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        backend = BackendTokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises plain Exception for a bad file
        raise WorkbenchError(f"the tokenizer in {tokenizer_dir} is damaged ({exc}); "
                             "create the tokenizer again") from exc
    if meta.get("format", 0) > METADATA_FORMAT:
        raise WorkbenchError(f"the tokenizer in {tokenizer_dir} was made by a newer LM Workbench; update the app")
    tokenizer = WorkbenchTokenizer(backend, meta.get("kind", "pretrained"), meta, source_dir=tokenizer_dir)
    if meta.get("vocab_size") not in (None, tokenizer.vocab_size):
        raise WorkbenchError(f"the tokenizer in {tokenizer_dir} has {tokenizer.vocab_size} tokens but its "
                             f"metadata says {meta['vocab_size']}; create the tokenizer again")
    return tokenizer
