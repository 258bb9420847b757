"""Frozen settings objects passed between the GUI, the command line and the core.

Each spec is plain data (JSON-friendly via `dataclasses.asdict`) and checks its own ranges in
`validate()`, raising `InvalidSpecError` with a message a user can act on. Cross-object checks
(for example a tokenizer's vocabulary against a model) live where both objects are known.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from workbench.core.base.errors import InvalidSpecError

DatasetFormat = Literal["auto", "txt", "md", "jsonl", "csv", "parquet", "folder"]
TokenizerKind = Literal["char", "bpe", "pretrained"]
Arch = Literal["gpt2", "llama", "bert", "lstm"]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InvalidSpecError(message)


def spec_from_dict(cls: type, data: dict[str, Any]):
    """Build a spec from a dict, ignoring unknown keys (older/newer projects stay readable)."""
    names = {f.name for f in fields(cls)}
    clean = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}
    return cls(**clean)


def spec_to_dict(spec: Any) -> dict[str, Any]:
    return asdict(spec)


@dataclass(frozen=True)
class DatasetSpec:
    """How to read and clean source files into a dataset."""

    name: str
    format: DatasetFormat = "auto"
    field: str | None = None  # JSONL key / CSV column / Parquet column; default "text"
    val_fraction: float = 0.1
    seed: int = 1337
    replace_invalid: bool = False  # replace undecodable bytes with U+FFFD instead of failing
    normalize_newlines: bool = True  # \r\n and \r -> \n
    nfc: bool = True  # Unicode NFC normalisation
    strip: bool = False  # strip leading/trailing whitespace of each document; drop empty ones
    # "auto": a byte-order mark, else UTF-8. Otherwise any Python text codec (utf-8, utf-16, cp1252, latin-1...)
    encoding: str = "auto"

    def validate(self) -> None:
        _check(bool(self.name.strip()), "the dataset needs a name: pass --name NAME")
        _check(0.0 <= self.val_fraction < 1.0,
               f"--val-fraction must be at least 0 and below 1 (got {self.val_fraction}); 0.1 is usual")
        _check(self.encoding == "auto" or is_text_codec(self.encoding),
               f"unknown text encoding {self.encoding!r}: use --encoding auto, utf-8, utf-16, cp1252, latin-1 "
               "or another Python codec name (such as cp1251, shift_jis, gb18030)")


def is_text_codec(name: str) -> bool:
    """Whether Python can decode bytes to text with `name` (unknown names and bytes-to-bytes codecs
    such as base64 or rot13 are not)."""
    try:
        b"x".decode(name)  # empty input would skip the codec lookup
    except (LookupError, TypeError):
        return False
    except ValueError:  # a decode error (one byte is half a UTF-16 unit): still a text codec
        return True
    return True


@dataclass(frozen=True)
class TokenizerSpec:
    name: str
    kind: TokenizerKind = "char"
    vocab_size: int = 4096  # BPE only
    min_frequency: int = 2  # BPE only
    special_tokens: tuple[str, ...] = ("<|endoftext|>",)
    source: str | None = None  # pretrained: local HF folder or hub id

    def validate(self) -> None:
        _check(bool(self.name.strip()), "the tokenizer needs a name: pass --name NAME")
        _check(self.kind in ("char", "bpe", "pretrained"), f"unknown tokenizer kind {self.kind!r}: use char, bpe or pretrained")
        if self.kind == "bpe":
            _check(260 <= self.vocab_size <= 1_000_000,
                   f"--vocab-size must be between 260 and 1000000 for BPE (got {self.vocab_size}); 4096 is a good start")
            _check(self.min_frequency >= 1, f"minimum frequency must be at least 1 (got {self.min_frequency})")
        if self.kind == "pretrained":
            _check(bool(self.source), "a pretrained tokenizer needs --source PATH_OR_ID (a local folder or a hub id)")


@dataclass(frozen=True)
class ModelSpec:
    """Architecture and size. `vocab_size` is filled in from the tokenizer before building."""

    arch: Arch = "gpt2"
    n_layer: int = 4
    n_head: int = 4
    n_kv_head: int | None = None  # llama grouped-query attention; None = n_head
    n_embd: int = 128
    block_size: int = 64
    dropout: float = 0.0
    vocab_size: int = 0
    bias: bool = True
    tie_embeddings: bool = True
    init_from: str | None = None  # pretrained HF folder or hub id

    def validate(self) -> None:
        _check(self.arch in ("gpt2", "llama", "bert", "lstm"), f"unknown architecture {self.arch!r}: use gpt2, llama, bert or lstm")
        _check(self.n_layer >= 1, f"--n-layer must be at least 1 (got {self.n_layer})")
        _check(self.n_embd >= 1, f"--n-embd must be at least 1 (got {self.n_embd})")
        _check(self.block_size >= 2, f"--block-size must be at least 2 (got {self.block_size})")
        _check(0.0 <= self.dropout < 1.0, f"--dropout must be in [0, 1) (got {self.dropout})")
        if self.arch != "lstm":
            _check(self.n_head >= 1, f"--n-head must be at least 1 (got {self.n_head})")
            _check(self.n_embd % self.n_head == 0,
                   f"--n-embd ({self.n_embd}) must be divisible by --n-head ({self.n_head}); "
                   f"try --n-embd {max(self.n_head, self.n_embd // self.n_head * self.n_head)}")
            kv = self.n_kv_head or self.n_head
            _check(kv >= 1 and self.n_head % kv == 0,
                   f"the number of key/value heads ({kv}) must divide --n-head ({self.n_head})")


DEFAULT_EVAL_BATCHES = 20


@dataclass(frozen=True)
class TrainSpec:
    batch_size: int = 12
    grad_accum: int = 1
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    max_steps: int = 2000
    warmup: int = 100
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_batches: int = DEFAULT_EVAL_BATCHES  # per evaluation, the same windows each time; 0 = the whole split
    patience: int = 0  # early stopping: evaluations without improvement; 0 = off
    precision: Literal["fp32", "bf16", "fp16", "auto"] = "fp32"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    seed: int = 1337
    sample_prompt: str = "\n"
    sample_tokens: int = 64
    num_threads: int = 0  # torch intra-op threads; 0 = choose by a short probe

    def validate(self) -> None:
        _check(self.batch_size >= 1, f"--batch-size must be at least 1 (got {self.batch_size})")
        _check(self.grad_accum >= 1, f"--grad-accum must be at least 1 (got {self.grad_accum})")
        _check(0 < self.lr < 1, f"--lr must be between 0 and 1 (got {self.lr}); 1e-3 is usual for small models")
        _check(self.max_steps >= 1, f"--max-steps must be at least 1 (got {self.max_steps})")
        _check(self.warmup >= 0, f"--warmup must be 0 or more (got {self.warmup})")
        _check(self.eval_interval >= 1, f"--eval-interval must be at least 1 (got {self.eval_interval})")
        _check(self.eval_batches >= 0,
               f"--eval-batches must be 0 (the whole validation split) or more (got {self.eval_batches})")
        _check(self.schedule in ("cosine", "linear", "constant"), f"unknown schedule {self.schedule!r}")
        _check(self.device in ("auto", "cpu", "cuda", "mps"), f"unknown device {self.device!r}: use auto, cpu, cuda or mps")
        _check(self.grad_clip >= 0, f"gradient clipping must be 0 (off) or more (got {self.grad_clip})")


@dataclass(frozen=True)
class SampleSpec:
    """Sampling settings for the playground and `workbench generate`."""

    max_new_tokens: int = 200
    temperature: float = 1.0  # 0 = greedy
    top_k: int = 0  # 0 = off
    top_p: float = 1.0
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    stop: tuple[str, ...] = field(default_factory=tuple)
    num_samples: int = 1
    seed: int | None = None

    def validate(self) -> None:
        _check(self.max_new_tokens >= 1, f"--max-new-tokens must be at least 1 (got {self.max_new_tokens})")
        _check(self.temperature >= 0, f"--temperature must be 0 (greedy) or more (got {self.temperature})")
        _check(self.top_k >= 0, f"--top-k must be 0 (off) or more (got {self.top_k})")
        _check(0 < self.top_p <= 1, f"--top-p must be in (0, 1] (got {self.top_p})")
        _check(0 <= self.min_p < 1, f"--min-p must be in [0, 1) (got {self.min_p})")
        _check(self.repetition_penalty > 0, f"--repetition-penalty must be above 0 (got {self.repetition_penalty})")
        _check(self.num_samples >= 1, f"--num-samples must be at least 1 (got {self.num_samples})")
