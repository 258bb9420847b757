"""The core operations the window runs as jobs: training, generation, attention, importing text and
exporting a run.

The core modules import torch at module level, so the window never imports them at its own module
level: each engine's `load_*` function imports its core functions (plain imports, on the calling
job's thread) and returns them. The jobs below call their engine's loader, the warm-up job calls
every loader after the window has painted, and a test checks that each one resolves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.base.errors import CancelledError, WorkbenchError
from workbench.core.base.events import GenerationRefused, GenerationTimed, Notice, TokenGenerated

log = logging.getLogger(__name__)

# Imports of torch/transformers from two threads at once (the warm-up job and a job the user or
# --demo starts) can see a half-initialised `transformers` ("cannot import name 'AutoConfig'").
# Every first import of a heavy module from a job happens inside `heavy_imports()`.
IMPORT_LOCK = threading.RLock()

Functions = tuple[Callable[..., Any], ...]


@contextmanager
def heavy_imports() -> Iterator[None]:
    """Wrap plain imports that may load torch or transformers: one thread imports them at a time."""
    with IMPORT_LOCK:
        yield


def load_training() -> Functions:
    """(create_run, train, configure_threads)"""
    with heavy_imports():
        from workbench.core.ops.run_setup import create_run
        from workbench.core.ops.training import configure_threads, train
    return create_run, train, configure_threads


def load_generation() -> Functions:
    """(load_checkpoint_for_inference, generate, choose_num_threads)"""
    with heavy_imports():
        from workbench.core.base.devices import choose_num_threads
        from workbench.core.inference.generation import generate
        from workbench.core.inference.models import load_checkpoint_for_inference
    return load_checkpoint_for_inference, generate, choose_num_threads


def load_attention() -> Functions:
    """(load_checkpoint_for_inference, extract_attention, choose_num_threads)"""
    with heavy_imports():
        from workbench.core.attention.extraction import extract_attention
        from workbench.core.base.devices import choose_num_threads
        from workbench.core.inference.models import load_checkpoint_for_inference
    return load_checkpoint_for_inference, extract_attention, choose_num_threads


def load_import() -> Functions:
    """(import_into_project, import_sample, create_tokenizer): what the dataset panel's jobs
    (ui/jobs/dataset.py) import themselves; they load no torch, so they take no lock."""
    from workbench.core.ops.catalog import create_tokenizer, import_into_project, import_sample

    return import_into_project, import_sample, create_tokenizer


def load_export() -> Functions:
    """(export_run,)"""
    with heavy_imports():
        from workbench.core.ops.export import export_run
    return (export_run,)


@dataclass(frozen=True)
class Engine:
    key: str
    what: str  # for messages: "Training from the window", ...
    load: Callable[[], Functions]

    def problem(self) -> str:
        """"" when the engine loads; otherwise why not, for the tooltips of the buttons it serves."""
        try:
            self.load()
        except Exception as exc:  # a broken install (a DLL, a missing package): say what failed
            log.exception("loading the %s engine failed", self.key)
            return f"{self.what} cannot start: loading it failed ({type(exc).__name__}: {exc})"
        return ""


TRAINING = Engine("training", "Training from the window", load_training)
GENERATION = Engine("generation", "Generation from the window", load_generation)
ATTENTION = Engine("attention", "Attention of typed text", load_attention)
IMPORT = Engine("import", "Importing from the window", load_import)
EXPORT = Engine("export", "Exporting from the window", load_export)
ENGINES = (TRAINING, GENERATION, ATTENTION, IMPORT, EXPORT)


def training_job(store: Any, dataset: str, tokenizer: str, model_spec: Any, train_spec: Any,
                 pause: threading.Event) -> Iterator[Any]:
    """Create a run from the specs, then train it; returns `RunFinished`.

    `pause` is shared with the training loop, which pauses between steps and keeps its heartbeat.
    Stopping closes this generator: the loop saves a checkpoint and records the run as stopped.
    """
    create_run, train, configure_threads = load_training()
    # Once per process, before any torch work: leaves a core to the GUI (DESIGN.md section 3).
    configure_threads(train_spec)
    run = yield from create_run(store, dataset=dataset, model_spec=model_spec, train_spec=train_spec,
                                tokenizer=tokenizer or None)
    yield Notice(f"Training run {run['name']!r}.", level="info")
    return (yield from train(store, run["id"], pause=pause))


def resume_job(store: Any, run_id: int, max_steps: int | None, pause: threading.Event) -> Iterator[Any]:
    """Go on training a stopped or interrupted run from its last verified checkpoint, up to
    `max_steps` (None: its own); returns `RunFinished`."""
    _create_run, train, configure_threads = load_training()
    from workbench.core.base.specs import TrainSpec, spec_from_dict
    from workbench.core.ops.run_setup import prepare_resume  # loaded just above, with create_run

    run = prepare_resume(store, run_id, max_steps=max_steps)
    configure_threads(spec_from_dict(TrainSpec, run["train_spec"]))  # before any torch work
    yield Notice(f"Resuming run {run['name']!r} from step {run['step']}.", level="info")
    return (yield from train(store, run_id, resume=True, pause=pause))


@dataclass(frozen=True)
class CheckpointUsed:
    """Yielded by the generation and attention jobs once loaded: the step "latest", "best" or a
    paused run's live choice resolved to, which the panel shows."""

    run: str
    step: int


def generation_job(store: Any, run: str, checkpoint: str, prompt: str, spec: Any,
                   continuation: tuple[str, tuple[int, ...]] | None = None) -> Iterator[Any]:
    """Load the run's checkpoint and stream `TokenGenerated` events; returns the texts. A request the
    run cannot meet (a checkpoint that fails its hash, an empty prompt with no beginning-of-text
    token) yields `GenerationRefused` and returns no texts: the panel says why, without a dialog.
    `continuation`, for a branch: (the text it branches from, the exact token ids after that text),
    which `prompt` spells out."""
    started = time.perf_counter()
    load, generate, choose_num_threads = load_generation()
    choose_num_threads()
    with heavy_imports():
        from workbench.core.inference.prompt_window import prompt_notice
    try:
        loaded = load(store, run, checkpoint)
        notice = prompt_notice(loaded.model, loaded.tokenizer, prompt)  # a cut or empty prompt, said in the panel
    except CancelledError:
        raise
    except WorkbenchError as exc:
        yield GenerationRefused(str(exc))
        return []
    yield CheckpointUsed(run, int(loaded.step))
    yield Notice(f"Generating with {run!r} at step {loaded.step}.", level="info")
    if notice:
        yield Notice(notice, level="warning")
    tokens = (generate(loaded.model, loaded.tokenizer, prompt, spec) if continuation is None else
              generate(loaded.model, loaded.tokenizer, continuation[0], spec, continue_ids=continuation[1]))
    return (yield from timed(tokens, started))


def timed(tokens: Iterator[Any], started: float) -> Iterator[Any]:
    """Pass the events on, then say how fast the tokens came (`GenerationTimed`)."""
    first = last = 0.0
    count = 0
    gen = iter(tokens)
    try:
        while True:
            try:
                event = next(gen)
            except StopIteration as done:
                if count:
                    yield GenerationTimed(count, first - started, last - first)
                return done.value
            if isinstance(event, TokenGenerated):
                last = time.perf_counter()
                first = first or last
                count += 1
            yield event
    finally:  # stopped: close the generation now, as `yield from` would (its `finally` runs at once)
        close = getattr(gen, "close", None)
        if close is not None:
            close()


def attention_job(store: Any, run: str, text: str, checkpoint: str = "latest") -> Iterator[Any]:
    """The attention of `text` under the run's `checkpoint` ("latest", "best" or a step, as
    `--checkpoint` takes it); returns an `AttentionResult`."""
    load, extract, choose_num_threads = load_attention()
    choose_num_threads()
    yield Notice(f"Loading {run!r}…", level="info")
    loaded = load(store, run, checkpoint)
    yield CheckpointUsed(run, int(loaded.step))
    yield Notice(f"Computing attention at step {loaded.step}…", level="info")
    return extract(loaded.model, loaded.tokenizer, text)


def head_scores_job(store: Any, run: str, text: str, checkpoint: str = "latest") -> Iterator[Any]:
    """Every head's scores under the run's `checkpoint` (induction on repeated random tokens, the
    others on `text` when it is not empty); returns a `HeadScores`."""
    load, _extract, choose_num_threads = load_attention()
    with heavy_imports():
        from workbench.core.attention.head_scores import head_scores
    choose_num_threads()
    yield Notice(f"Loading {run!r}…", level="info")
    loaded = load(store, run, checkpoint)
    yield CheckpointUsed(run, int(loaded.step))
    yield Notice(f"Scoring the heads at step {loaded.step}…", level="info")
    return head_scores(loaded.model, loaded.tokenizer, text or None)


def export_job(store: Any, run: str, out: str | Path) -> Iterator[Any]:
    """Write the run's latest checkpoint as a Hugging Face folder; returns what was written."""
    (export_run,) = load_export()
    yield Notice(f"Exporting {run!r} to {out}…", level="info")
    return export_run(store, run, Path(out))
