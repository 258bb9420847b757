"""The playground's jobs beyond plain generation: side by side, fill-mask and the surprise view.

Loaded models are kept per run and checkpoint step (`ModelCache`), so asking again, or comparing
three steps of one run, does not read and verify the same files each time. The key holds the
checkpoint's sha256 as recorded, so a checkpoint written again under the same step is loaded again.

Expected refusals (a checkpoint that fails its hash, a BERT run in a side-by-side column, text
without `[MASK]`) are not failures of the job: the jobs return them as `Refused` (or a column's
`ColumnEnded` with a reason) and the panel shows the reason as plain text, without an error dialog.

Side by side runs as ONE job that advances its columns in turn, one token each: the interactive
lane keeps one job at a time (a newer request stops the older), so one job per column would stop
each other; and taking turns keeps the columns level, so their texts can be compared as they grow.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Notice
from workbench.ui.jobs.backends import CheckpointUsed, heavy_imports

CACHE_SIZE = 4  # the most columns side by side


class ModelCache:
    """The last few loaded checkpoints, by (project, run id, step, sha256). Thread-safe: a job of the
    interactive lane may still be closing while the next one starts loading."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, store: Any, run: str | int, which: str | int) -> Any:
        """The `LoadedCheckpoint` of the run's checkpoint `which` ("latest", "best", a step)."""
        with heavy_imports():
            from workbench.core.inference.models import load_checkpoint_for_inference
            from workbench.core.project.checkpoints import find_checkpoint
        row = find_checkpoint(store, store.get_run(run), which)
        key = (str(store.root), int(row["run_id"]), int(row["step"]), row["sha256"])
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        loaded = load_checkpoint_for_inference(store, int(row["run_id"]), int(row["step"]))  # verifies the hash
        with self._lock:
            self._items[key] = loaded
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = ModelCache()


@dataclass(frozen=True)
class Refused:
    """What the panel shows instead of a result: why it could not be done (plain text)."""

    reason: str


# ---- side by side ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnStarted:
    column: int
    run: str
    step: int


@dataclass(frozen=True)
class ColumnToken:
    column: int
    token_id: int
    text: str  # may be "" while the decoder holds back half a character
    prob: float


@dataclass(frozen=True)
class ColumnEnded:
    column: int
    tokens: int
    reason: str = ""  # why it could not generate; "" when it ended normally


def side_by_side_job(store: Any, columns: list[tuple[str, str]], prompt: str, spec: Any,
                     cache: ModelCache = CACHE) -> Generator[Any, None, int]:
    """Stream `prompt` continued by each (run, checkpoint) column, one token per column in turn, all
    with the same seed (a random one, the same for all, when `spec.seed` is None). Returns the seed."""
    with heavy_imports():
        from workbench.core.base.devices import choose_num_threads
        from workbench.core.inference.generation import generate
    choose_num_threads()
    seed = spec.seed if spec.seed is not None else secrets.randbits(31)
    spec = replace(spec, seed=seed, num_samples=1)
    streams: dict[int, Iterator[Any]] = {}
    counts = dict.fromkeys(range(len(columns)), 0)
    try:
        for column, (run, checkpoint) in enumerate(columns):
            yield Notice(f"Loading column {column + 1}: {run!r}…", level="info")
            try:
                loaded = cache.load(store, run, checkpoint)
                streams[column] = generate(loaded.model, loaded.tokenizer, prompt, spec)
            except WorkbenchError as exc:
                yield ColumnEnded(column, 0, str(exc))
                continue
            yield ColumnStarted(column, run, loaded.step)
        while streams:
            for column in list(streams):
                try:
                    event = next(streams[column])
                except StopIteration:
                    del streams[column]
                    yield ColumnEnded(column, counts[column])
                    continue
                except WorkbenchError as exc:
                    del streams[column]
                    yield ColumnEnded(column, counts[column], str(exc))
                    continue
                counts[column] += 1
                yield ColumnToken(column, int(event.token_id), event.text, float(event.prob))
    finally:
        for stream in streams.values():
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    return seed


# ---- fill-mask -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FillMaskResult:
    run: str
    step: int
    text: str
    candidates: tuple[tuple[tuple[str, float], ...], ...]  # per [MASK], (token text, probability) best first


def fill_mask_job(store: Any, run: str, checkpoint: str, text: str, top_k: int = 10,
                  cache: ModelCache = CACHE) -> Generator[Any, None, FillMaskResult | Refused]:
    """The ranked candidates for each `[MASK]` of `text`; returns `FillMaskResult` or `Refused`."""
    with heavy_imports():
        from workbench.core.base.devices import choose_num_threads
        from workbench.core.inference.generation import fill_mask
    choose_num_threads()
    yield Notice(f"Loading {run!r}…", level="info")
    try:
        loaded = cache.load(store, run, checkpoint)
        yield CheckpointUsed(run, loaded.step)
        found = fill_mask(loaded.model, loaded.tokenizer, text, top_k)
    except WorkbenchError as exc:
        return Refused(str(exc))
    return FillMaskResult(run, loaded.step, text, tuple(tuple(c) for c in found))


# ---- surprise --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SurpriseResult:
    run: str
    step: int
    source: str  # "text" | "validation"
    token_ids: tuple[int, ...]
    token_texts: tuple[str, ...]  # display form ("·" for a space)
    losses: tuple[float, ...]  # nats; NaN where the model predicts nothing (a causal model's first token)
    mean_loss: float
    perplexity: float
    vocab_size: int
    first: int = 0  # validation: the slice's first token
    total: int = 0  # validation: tokens in the split


def surprise_job(store: Any, run: str, checkpoint: str, text: str | None, start: int = 0, count: int = 256,
                 cache: ModelCache = CACHE) -> Generator[Any, None, SurpriseResult | Refused]:
    """Each token's loss under the run's checkpoint: of `text`, or (None) of `count` tokens of the
    run's validation split from token `start`. Returns `SurpriseResult` or `Refused`."""
    with heavy_imports():
        from workbench.core.base.devices import choose_num_threads
        from workbench.core.inference.evaluation import per_token_loss
    choose_num_threads()
    yield Notice(f"Loading {run!r}…", level="info")
    try:
        loaded = cache.load(store, run, checkpoint)
        yield CheckpointUsed(run, loaded.step)
        if text is None:
            ids, first, total = yield from _validation_slice(store, loaded.run, start, count)
        else:
            ids, first, total = np.asarray(loaded.tokenizer.encode(text), dtype=np.int64), 0, 0
        if len(ids) < 2:
            return Refused("Type a longer text: the surprise view needs at least 2 tokens.")
        yield Notice(f"Scoring {len(ids):,} tokens at step {loaded.step}…", level="info")
        losses = per_token_loss(loaded.model, loaded.spec, ids, next(loaded.model.parameters()).device,
                                mask_token_id=getattr(loaded.tokenizer, "mask_token_id", None))
    except WorkbenchError as exc:
        return Refused(str(exc))
    scored = losses[np.isfinite(losses)]
    mean = float(scored.mean()) if len(scored) else float("nan")
    return SurpriseResult(
        run=run, step=loaded.step, source="text" if text is not None else "validation",
        token_ids=tuple(int(i) for i in ids), token_texts=tuple(loaded.tokenizer.token_text(int(i)) for i in ids),
        losses=tuple(float(x) for x in losses), mean_loss=mean,
        perplexity=math.exp(mean) if mean < 700 else float("inf"), vocab_size=int(loaded.spec.vocab_size),
        first=first, total=total)


def _validation_slice(store: Any, run: dict[str, Any], start: int, count: int
                      ) -> Generator[Any, None, tuple[np.ndarray, int, int]]:
    """(ids, first, total): `count` tokens of the run's validation split from `start` (moved back so
    the slice fits)."""
    with heavy_imports():
        from workbench.core.ops.catalog import ensure_token_cache
    if run.get("dataset_id") is None or run.get("tokenizer_id") is None:
        raise WorkbenchError(f"run {run['name']!r} has no dataset or tokenizer any more: type a text instead")
    data = yield from ensure_token_cache(store, store.get_dataset(run["dataset_id"]),
                                         store.get_tokenizer(run["tokenizer_id"]))
    total = len(data.val)
    if total < 2:
        raise WorkbenchError(f"the validation split of run {run['name']!r} is empty: type a text instead")
    first = max(0, min(int(start), total - count))
    return np.asarray(data.val[first:first + count], dtype=np.int64), first, total
