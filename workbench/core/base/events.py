"""Events yielded by core generators.

Every long operation in `workbench.core` is a generator that yields these small frozen dataclasses
(at least once per batch / optimizer step / token) and returns its result. Each yield is a progress
report and a cancellation point. Fields are plain Python numbers and strings (or numpy arrays), so
events may cross threads.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Progress:
    """Generic progress: `done` of `total` units (total None when unknown)."""

    stage: str  # "read", "split", "stats", "train-tokenizer", "encode", ...
    done: int
    total: int | None = None
    unit: str = "bytes"
    message: str = ""


@dataclass(frozen=True)
class Notice:
    """Something the user should know that does not stop the operation (a skipped file, ...)."""

    message: str
    level: str = "warning"  # "info" | "warning"


@dataclass(frozen=True)
class StepLogged:
    step: int
    loss: float
    lr: float
    grad_norm: float
    tokens_per_s: float
    memory_mb: float = 0.0
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class EvalFinished:
    step: int
    val_loss: float
    val_ppl: float
    train_loss: float | None = None
    best: bool = False


@dataclass(frozen=True)
class SampleGenerated:
    step: int
    prompt: str
    text: str


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str  # relative to the project folder
    kind: str  # "latest" | "best"
    sha256: str = ""


@dataclass(frozen=True)
class RunStatusChanged:
    """A run paused or went on; yielded about once a second while paused (a cancellation point)."""

    step: int
    status: str  # "paused" | "running"


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    status: str  # "finished" | "stopped" | "failed" | "early_stopped"
    step: int
    message: str = ""


@dataclass(frozen=True)
class TokenGenerated:
    """One sampled token: its text, probability, top alternatives and the running log-probability."""

    sample: int  # index of the sample when several are drawn
    index: int  # position in the generated continuation (0-based)
    token_id: int
    text: str
    prob: float
    logprob_total: float
    alternatives: tuple[tuple[str, float], ...] = ()  # (token text, probability), best first
    # The same alternatives seen through the sampler (repetition penalty, temperature, top-k, top-p,
    # min-p): what each was really drawn with. Empty where the producer did not compute them.
    prob_sampled: float | None = None  # the chosen token's probability after the sampler
    alternatives_sampled: tuple[float, ...] = ()  # aligned with `alternatives`
    # Each alternative as text to continue from (decoded, not the display form with "·" for space):
    # the playground's branching prompts with it.
    alternative_texts: tuple[str, ...] = ()
    alternative_ids: tuple[int, ...] = ()  # their token ids: a branch continues from exact tokens
    # With generate(..., return_attention=True): float16 numpy [layers, heads, keys], the attention of
    # the step that produced this token over the window it saw (prompt and earlier output).
    attention: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class GenerationTimed:
    """Yielded by the window's generation job as the text ends: the playground's final figures, timed
    where the tokens are made (the window only sees them in batches, at its redraw rate)."""

    tokens: int
    first_token_s: float  # from the job's start (loading the weights included) to the first token
    seconds: float  # from the first token to the last

    @property
    def tokens_per_s(self) -> float | None:
        return (self.tokens - 1) / self.seconds if self.tokens > 1 and self.seconds > 0 else None


@dataclass(frozen=True)
class GenerationRefused:
    """Yielded by the window's generation job instead of tokens when the request cannot be met (a
    checkpoint that fails its hash, an empty prompt with no beginning-of-text token): the reason, said
    in the playground as plain text rather than in an error dialog."""

    reason: str


@dataclass(frozen=True)
class AttentionSnapshotSaved:
    step: int
    path: str  # relative to the project folder
    probe_text: str = ""  # the `attention_snapshots` row needs it (NOT NULL)


def run_to_end(gen: Generator[Any, None, R]) -> tuple[list[Any], R]:
    """Drive a core generator where nothing needs its progress live (tests, benchmarks, scripts):
    every event it yielded, in order, and the value it returned."""
    events: list[Any] = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            return events, done.value
