"""`workbench --demo`: a sample project that trains as soon as the window is up.

The project lives in the user data folder and is reused on the next launch. Everything slow
(generating the toy stories, the tokenizer, importing torch, training) runs in one training job,
so the window paints first and the curves start moving a few seconds later.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.core.project.store import ProjectStore
from workbench.ui import settings
from workbench.ui.jobs import backends

DEMO_DATASET = "toy-stories"
DEMO_TOKENIZER = "toy-stories-char"
DEMO_PRESET = "nano"
DEMO_STEPS = 3000


def demo_project_path() -> Path:
    return settings.data_dir() / "demo.wbproj"


def ensure_demo_project() -> Path:
    """Create the (empty) demo project if needed; fast, so it runs before the window opens it."""
    path = demo_project_path()
    if not (path / "project.db").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ProjectStore.create(path).close()
    return path


def demo_training_job(store: ProjectStore, pause: threading.Event) -> Iterator[Any]:
    """Import the toy stories and a character tokenizer if missing, then train the smallest preset."""
    from workbench.core.base.specs import ModelSpec, TokenizerSpec, TrainSpec
    from workbench.core.models.presets import apply_preset
    from workbench.core.ops.catalog import create_tokenizer, import_sample

    if not store.name_taken("datasets", DEMO_DATASET):
        yield from import_sample(store, "toy-stories", name=DEMO_DATASET)
    if not store.name_taken("tokenizers", DEMO_TOKENIZER):
        yield from create_tokenizer(store, DEMO_DATASET, TokenizerSpec(name=DEMO_TOKENIZER, kind="char"))
    model_spec = apply_preset(ModelSpec(), DEMO_PRESET)
    train_spec = TrainSpec(max_steps=DEMO_STEPS, eval_interval=100, warmup=50, batch_size=16, lr=2e-3,
                           sample_prompt="Once upon a time")
    return (yield from backends.training_job(store, DEMO_DATASET, DEMO_TOKENIZER, model_spec, train_spec, pause))


def start_demo(window: Any) -> bool:
    """Open the demo project in `window` and start its training job."""
    if not window.open_project(ensure_demo_project()):
        return False
    pause = threading.Event()
    factory = functools.partial(demo_training_job, window.jobs.store, pause)
    job = window.jobs.run_training(factory, f"Demo: {DEMO_PRESET} model on toy stories", DEMO_STEPS, pause_event=pause)
    if job is not None:
        window.status.showMessage("Demo: training a tiny model on generated toy stories; watch the curves.", 8000)
    return job is not None
