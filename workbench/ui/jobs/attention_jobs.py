"""Attention jobs beyond the typed text's one map: one checkpoint step of the checkpoint slider, and
a playground text with its generated part marked. They return `StepAttention`-like results with
the step they used, so the window caches and marks exactly what was computed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.base.events import Notice
from workbench.ui.jobs import backends


@dataclass(frozen=True)
class AttentionComputed:
    run: str
    step: int
    text: str
    weights: np.ndarray  # [layers, heads, T, T] float16
    tokens: tuple[str, ...]
    notice: str = ""
    marked_from: int | None = None  # first generated token (a playground text), in `tokens`


def attention_at_job(store: Any, run: str, checkpoint: str, text: str, prompt: str | None = None) -> Iterator[Any]:
    """The attention of `text` under the run's `checkpoint`; with `prompt` (the start of `text` the
    user typed in the playground) the tokens after it are marked as generated."""
    load, extract, choose_num_threads = backends.load_attention()
    choose_num_threads()
    yield Notice(f"Loading {run!r} at {checkpoint}…", level="info")
    loaded = load(store, run, checkpoint)
    yield backends.CheckpointUsed(run, int(loaded.step))
    yield Notice(f"Computing attention at step {loaded.step}…", level="info")
    result = extract(loaded.model, loaded.tokenizer, text)
    marked = None
    if prompt is not None:
        # Tokens of the prompt alone; a text cut at its start (longer than the context) lost `dropped`.
        marked = max(0, len(loaded.tokenizer.encode(prompt)) - int(result.dropped_tokens))
    return AttentionComputed(run, int(loaded.step), text, result.weights, tuple(result.tokens), result.notice, marked)
