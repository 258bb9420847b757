"""The core operations the window runs as jobs, imported lazily: training, generation, attention,
importing text and exporting a run.

The core modules import torch at module level, so the window never imports them itself. `status()`
only asks whether the modules exist (no import); the warm-up job imports them after the window has
painted and `status(deep=True)` checks each function. The job generators below import on the job's
own thread when the user starts something, and turn a missing piece into a `WorkbenchError` that
says what to use instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Notice

# Imports of torch/transformers from two threads at once (the warm-up job and a job the user or
# --demo starts) can see a half-initialised `transformers` ("cannot import name 'AutoConfig'").
# Every import of a heavy module from a job goes through this lock.
IMPORT_LOCK = threading.RLock()


def import_heavy(module: str) -> Any:
    with IMPORT_LOCK:
        return importlib.import_module(module)


CHECKPOINT_LOADER = "workbench.core.inference.models:load_checkpoint_for_inference"
THREADS = "workbench.core.base.devices:choose_num_threads"
MODEL_CORE = ("workbench.core.models.modeling:load_model_dir", "workbench.core.base.devices:choose_device", THREADS)


@dataclass(frozen=True)
class Engine:
    key: str
    what: str  # for messages: "Training from the window", ...
    cli_hint: str
    functions: tuple[str, ...]  # "module:function" the jobs call

    def status(self, deep: bool = False) -> str:
        """"" when usable; otherwise why not, in words a user can act on."""
        for target in self.functions:
            module, _, name = target.partition(":")
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                return f"{self.what} is not part of this build of LM Workbench yet; {self.cli_hint}"
            if deep:
                try:
                    loaded = import_heavy(module)
                except Exception as exc:  # a broken install: say what failed
                    return f"{self.what} cannot start: importing {module} failed ({type(exc).__name__}: {exc})"
                if not callable(getattr(loaded, name, None)):
                    return f"{self.what} is not connected in this build ({module} has no {name}()); {self.cli_hint}"
        return ""

    def function(self, target: str) -> Callable[..., Any]:
        """Import and return one of `functions` (on a job's thread), or raise a WorkbenchError."""
        reason = self.status(deep=True)
        if reason:
            raise WorkbenchError(reason)
        module, _, name = target.partition(":")
        return getattr(import_heavy(module), name)


TRAINING = Engine("training", "Training from the window",
                  "use `workbench train PROJECT --dataset NAME` on the command line",
                  ("workbench.core.ops.run_setup:create_run", "workbench.core.ops.training:train",
                   "workbench.core.ops.training:configure_threads", *MODEL_CORE))
GENERATION = Engine("generation", "Generation from the window",
                    "use `workbench generate PROJECT --run RUN --prompt TEXT` on the command line",
                    (CHECKPOINT_LOADER, "workbench.core.inference.generation:generate", *MODEL_CORE))
ATTENTION = Engine("attention", "Attention of typed text",
                   "use `workbench attention PROJECT --run RUN --text TEXT --png FILE` on the command line",
                   (CHECKPOINT_LOADER, "workbench.core.attention.extraction:extract_attention", *MODEL_CORE))
IMPORT = Engine("import", "Importing from the window",
                "use `workbench import PROJECT FILE --name NAME` on the command line",
                ("workbench.core.ops.catalog:import_into_project",))
EXPORT = Engine("export", "Exporting from the window",
                "use `workbench export PROJECT --run RUN --out DIR` on the command line",
                ("workbench.core.ops.export:export_run",))
ENGINES = (TRAINING, GENERATION, ATTENTION, IMPORT, EXPORT)


def training_job(store: Any, dataset: str, tokenizer: str, model_spec: Any, train_spec: Any,
                 pause: threading.Event) -> Iterator[Any]:
    """Create a run from the specs, then train it; returns `RunFinished`.

    `pause` is shared with the training loop, which pauses between steps and keeps its heartbeat.
    Stopping closes this generator: the loop saves a checkpoint and records the run as stopped.
    """
    create_run = TRAINING.function("workbench.core.ops.run_setup:create_run")
    train = TRAINING.function("workbench.core.ops.training:train")
    # Once per process, before any torch work: leaves a core to the GUI (DESIGN.md section 3).
    TRAINING.function("workbench.core.ops.training:configure_threads")(train_spec)
    run = yield from create_run(store, dataset=dataset, model_spec=model_spec, train_spec=train_spec,
                                tokenizer=tokenizer or None)
    yield Notice(f"Training run {run['name']!r}.", level="info")
    return (yield from train(store, run["id"], pause=pause))


def generation_job(store: Any, run: str, checkpoint: str, prompt: str, spec: Any) -> Iterator[Any]:
    """Load the run's checkpoint and stream `TokenGenerated` events; returns the texts."""
    load = GENERATION.function(CHECKPOINT_LOADER)
    generate = GENERATION.function("workbench.core.inference.generation:generate")
    GENERATION.function(THREADS)()
    loaded = load(store, run, checkpoint)
    yield Notice(f"Generating with {run!r} at step {loaded.step}.", level="info")
    return (yield from generate(loaded.model, loaded.tokenizer, prompt, spec))


def attention_job(store: Any, run: str, text: str) -> Iterator[Any]:
    """The attention of `text` under the run's latest checkpoint; returns an `AttentionResult`."""
    load = ATTENTION.function(CHECKPOINT_LOADER)
    extract = ATTENTION.function("workbench.core.attention.extraction:extract_attention")
    ATTENTION.function(THREADS)()
    yield Notice(f"Loading {run!r}…", level="info")
    loaded = load(store, run, "latest")
    yield Notice("Computing attention…", level="info")
    return extract(loaded.model, loaded.tokenizer, text)


def export_job(store: Any, run: str, out: str | Path) -> Iterator[Any]:
    """Write the run's latest checkpoint as a Hugging Face folder; returns what was written."""
    export_run = EXPORT.function("workbench.core.ops.export:export_run")
    yield Notice(f"Exporting {run!r} to {out}…", level="info")
    return export_run(store, run, Path(out))
