"""Frozen settings objects passed between the GUI, the command line and the core.

Each spec is plain data (JSON-friendly via `dataclasses.asdict`) and checks its own ranges in
`validate()`, raising `InvalidSpecError` with a message a user can act on. Cross-object checks
(for example a tokenizer's vocabulary against a model) live where both objects are known.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from workbench.core.base.errors import InvalidSpecError

DatasetFormat = Literal["auto", "txt", "md", "jsonl", "csv", "parquet", "folder"]
TokenizerKind = Literal["char", "bpe", "pretrained"]
Arch = Literal["gpt2", "llama", "bert", "lstm"]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InvalidSpecError(message)


@dataclass(frozen=True)
class Limit:
    """The values a numeric setting may take: `low` to `high`, both included unless marked open.

    Whole-number limits have int ends. `zero` also allows 0 below `low` (temperature 0 = greedy);
    `wording` replaces the generated range text; `note` says what is usual or what 0 means."""

    low: float
    high: float
    open_low: bool = False
    open_high: bool = False
    zero: bool = False
    wording: str = ""
    note: str = ""

    def allows(self, value: float) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.zero and value == 0:
            return True
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    def describe(self) -> str:
        if self.wording:
            return self.wording
        if isinstance(self.low, int) and isinstance(self.high, int):
            return f"a whole number from {self.low} to {self.high}"
        low = f"above {self.low:g}" if self.open_low else f"at least {self.low:g}"
        high = f"below {self.high:g}" if self.open_high else f"at most {self.high:g}"
        return f"{low} and {high}"

    def problem(self, flag: str, value: float, typed: str | None = None) -> str | None:
        """None when `value` is allowed, else the message that names `flag`, the range and the value
        (as the user `typed` it, when given: 1e309 reads better than inf)."""
        if self.allows(value):
            return None
        shown = value if typed is None else typed
        return f"{flag} must be {self.describe()} (got {shown})" + (f"; {self.note}" if self.note else "")


# The range of every numeric setting, by its command-line flag: the one place they are written down.
# The specs' validate() checks them (the GUI and the core go through it) and the command line checks
# them while parsing (workbench/commands/common.py), before a project is even opened. The upper
# bounds are far above anything a small-model workbench trains yet keep a typo (an extra zero, a
# seed of -1) from reaching torch or numpy: whether a large model fits in memory is checked apart
# (training/estimates.py) before a run is created.
LIMITS: dict[str, Limit] = {
    "--seed": Limit(0, 2**32 - 1),  # numpy's classic seed range; runs add small offsets to it
    "--val-fraction": Limit(0.0, 1.0, open_high=True, note="0.1 is usual"),
    "--vocab-size": Limit(260, 1_000_000, note="4096 is a good start for BPE"),
    "--min-frequency": Limit(1, 2**31 - 1, note="2 is usual"),
    "--n-layer": Limit(1, 256),
    "--n-head": Limit(1, 256),
    "--n-kv-head": Limit(1, 256),
    "--n-embd": Limit(1, 65_536),
    "--block-size": Limit(2, 1_048_576),
    "--dropout": Limit(0.0, 1.0, open_high=True),
    "--batch-size": Limit(1, 65_536),
    "--grad-accum": Limit(1, 4096),
    "--lr": Limit(0.0, 1.0, open_low=True, open_high=True, note="1e-3 is usual for small models"),
    "--max-steps": Limit(1, 10**9),
    "--warmup": Limit(0, 10**9),
    "--eval-interval": Limit(1, 10**9),
    "--eval-batches": Limit(0, 10_000, wording="0 (the whole validation split) or a whole number up to 10000"),
    "--patience": Limit(0, 1_000_000, note="0 turns early stopping off"),
    "--threads": Limit(0, 1024, note="0 chooses by a short probe"),
    "--max-new-tokens": Limit(1, 100_000),
    "--temperature": Limit(0.01, 100.0, zero=True, wording="0 (greedy) or from 0.01 to 100"),
    "--top-k": Limit(0, 1_000_000, note="0 turns it off"),
    "--top-p": Limit(0.0, 1.0, open_low=True),
    "--min-p": Limit(0.0, 1.0, open_high=True),
    "--repetition-penalty": Limit(0.01, 100.0, note="1 turns it off; above 1 discourages repeats"),
    "--num-samples": Limit(1, 1000),
    "--checkpoint-budget-gb": Limit(0.0, 1_000_000.0, note="0 keeps only the latest, best and pinned checkpoints"),
    "--pin": Limit(0, 10**9),  # checkpoint steps: `workbench checkpoints` then says which steps exist
    "--unpin": Limit(0, 10**9),
    "--delete": Limit(0, 10**9),
    "--layer": Limit(0, 255),  # attention: checked against the model's own count once it is loaded
    "--head": Limit(0, 255),
}


def check_limit(flag: str, value: float) -> None:
    """Raise InvalidSpecError naming `flag` when `value` is outside LIMITS[flag]."""
    problem = LIMITS[flag].problem(flag, value)
    if problem:
        raise InvalidSpecError(problem)


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
        check_limit("--val-fraction", self.val_fraction)
        check_limit("--seed", self.seed)
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
            check_limit("--vocab-size", self.vocab_size)
            check_limit("--min-frequency", self.min_frequency)
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
        check_limit("--n-layer", self.n_layer)
        check_limit("--n-embd", self.n_embd)
        check_limit("--block-size", self.block_size)
        check_limit("--dropout", self.dropout)
        if self.arch != "lstm":
            check_limit("--n-head", self.n_head)
            if self.n_kv_head is not None:
                check_limit("--n-kv-head", self.n_kv_head)
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
    # checkpoint history (project/retention.py): "auto" keeps every evaluation's checkpoint up to
    # the budget, then thins older ones; "all" keeps them all. Latest, best and pinned always stay.
    keep_checkpoints: Literal["all", "auto"] = "auto"
    checkpoint_budget_gb: float = 2.0

    def validate(self) -> None:
        for flag, value in (("--batch-size", self.batch_size), ("--grad-accum", self.grad_accum), ("--lr", self.lr),
                            ("--max-steps", self.max_steps), ("--warmup", self.warmup),
                            ("--eval-interval", self.eval_interval), ("--eval-batches", self.eval_batches),
                            ("--patience", self.patience), ("--seed", self.seed), ("--threads", self.num_threads),
                            ("--checkpoint-budget-gb", self.checkpoint_budget_gb)):
            check_limit(flag, value)
        _check(self.keep_checkpoints in ("all", "auto"),
               f"unknown --keep-checkpoints {self.keep_checkpoints!r}: use auto or all")
        _check(self.schedule in ("cosine", "linear", "constant"), f"unknown schedule {self.schedule!r}")
        _check(self.device in ("auto", "cpu", "cuda", "mps"), f"unknown device {self.device!r}: use auto, cpu, cuda or mps")
        _check(self.grad_clip >= 0, f"gradient clipping must be 0 (off) or more (got {self.grad_clip})")
        _check(all(math.isfinite(x) for x in (self.grad_clip, self.weight_decay, self.beta1, self.beta2,
                                              self.min_lr_ratio)),
               "gradient clipping, weight decay, the Adam betas and the minimum learning rate must be finite numbers")


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
        for flag, value in (("--max-new-tokens", self.max_new_tokens), ("--temperature", self.temperature),
                            ("--top-k", self.top_k), ("--top-p", self.top_p), ("--min-p", self.min_p),
                            ("--repetition-penalty", self.repetition_penalty), ("--num-samples", self.num_samples)):
            check_limit(flag, value)
        if self.seed is not None:
            check_limit("--seed", self.seed)
