"""`workbench --demo`: a sample project that trains as soon as the window is up.

The project lives in the user data folder and is reused on the next launch, run included: a
stopped or interrupted demo run resumes from its last checkpoint, a finished one is shown (no new
3000-step run each time). Everything slow (generating the toy stories, the tokenizer, importing
torch, training) runs in the training job, so the window paints first and the curves start moving
a few seconds later; the panels show the dataset, tokenizer and run as soon as it reports a step.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.core.base.events import StepLogged
from workbench.core.project.store import ProjectStore
from workbench.ui import settings
from workbench.ui.jobs import backends

DEMO_DATASET = "toy-stories"
DEMO_TOKENIZER = "toy-stories-char"
DEMO_PRESET = "nano"
DEMO_STEPS = 3000
DEMO_TITLE = f"Demo: {DEMO_PRESET} model on toy stories"
RESUMABLE = ("stopped", "interrupted", "queued")  # queued: it died before its first step
TRAINING_ELSEWHERE = ("running", "paused")  # a stale one was marked interrupted when the project opened


def demo_project_path() -> Path:
    return settings.data_dir() / "demo.wbproj"


def ensure_demo_project() -> Path:
    """Create the (empty) demo project if needed; fast, so it runs before the window opens it."""
    path = demo_project_path()
    if not (path / "project.db").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ProjectStore.create(path).close()
    return path


def _demo_specs() -> tuple[Any, Any]:
    from workbench.core.base.specs import ModelSpec, TrainSpec
    from workbench.core.models.presets import apply_preset

    model_spec = apply_preset(ModelSpec(), DEMO_PRESET)
    train_spec = TrainSpec(max_steps=DEMO_STEPS, eval_interval=100, warmup=50, batch_size=16, lr=2e-3,
                           sample_prompt="Once upon a time")
    return model_spec, train_spec


def find_demo_run(store: ProjectStore) -> dict[str, Any] | None:
    """The demo's own run: the newest one on the demo dataset with the demo's model and length (a run
    the user trained in the demo project with other settings is left alone)."""
    if not store.name_taken("datasets", DEMO_DATASET):
        return None
    dataset_id = store.get_dataset(DEMO_DATASET)["id"]
    model_spec, _train_spec = _demo_specs()
    shape = {k: getattr(model_spec, k) for k in ("arch", "n_layer", "n_head", "n_embd", "block_size")}
    for run in reversed(store.list_runs()):
        spec, train = run["model_spec"] or {}, run["train_spec"] or {}
        if (run["dataset_id"] == dataset_id and all(spec.get(k) == v for k, v in shape.items())
                and train.get("max_steps") == DEMO_STEPS):
            return run
    return None


def demo_training_job(store: ProjectStore, pause: threading.Event) -> Iterator[Any]:
    """Import the toy stories and a character tokenizer if missing, then train the smallest preset."""
    from workbench.core.base.specs import TokenizerSpec
    from workbench.core.ops.catalog import create_tokenizer, import_sample

    if not store.name_taken("datasets", DEMO_DATASET):
        yield from import_sample(store, "toy-stories", name=DEMO_DATASET)
    if not store.name_taken("tokenizers", DEMO_TOKENIZER):
        yield from create_tokenizer(store, DEMO_DATASET, TokenizerSpec(name=DEMO_TOKENIZER, kind="char"))
    model_spec, train_spec = _demo_specs()
    return (yield from backends.training_job(store, DEMO_DATASET, DEMO_TOKENIZER, model_spec, train_spec, pause))


def demo_resume_job(store: ProjectStore, run_id: int, pause: threading.Event) -> Iterator[Any]:
    """Go on training the demo run from its last checkpoint (from the start if it has none)."""
    from workbench.core.base.events import Notice
    from workbench.core.base.specs import TrainSpec, spec_from_dict

    _create_run, train, configure_threads = backends.load_training()
    from workbench.core.ops.run_setup import prepare_resume  # loaded just above, with create_run

    run = prepare_resume(store, run_id)
    configure_threads(spec_from_dict(TrainSpec, run["train_spec"]))  # before any torch work
    yield Notice(f"Resuming the demo run {run['name']!r} from step {run['step']}.", level="info")
    return (yield from train(store, run_id, resume=True, pause=pause))


def demo_plan(run: dict[str, Any] | None) -> str:
    """What a launch does with the demo run it finds: "new", "resume" or "show"."""
    if run is None or run["status"] == "failed":  # a failed run would fail again: start afresh
        return "new"
    if run["status"] in RESUMABLE and run["step"] < DEMO_STEPS:
        return "resume"
    return "show"  # finished, or being trained by another window


def start_demo(window: Any) -> bool:
    """Open the demo project in `window` and train its run: a new one, or the one a previous launch
    left unfinished. A finished demo run is only shown. True when the demo is on screen."""
    if not window.open_project(ensure_demo_project()):
        return False
    store = window.store
    if store.name_taken("datasets", DEMO_DATASET):
        window.panels.dataset.select_dataset(store.get_dataset(DEMO_DATASET)["id"])
    run = find_demo_run(store)
    if store.read_only:  # another window has the demo open (or its folder cannot be written): only show it
        return _show_run(window, run) if run is not None else True
    plan = demo_plan(run)
    if plan == "show":
        return _show_run(window, run)
    pause = threading.Event()
    if plan == "new":
        factory = functools.partial(demo_training_job, store, pause)
    else:
        factory = functools.partial(demo_resume_job, store, run["id"], pause)
    job = window.jobs.run_training(factory, DEMO_TITLE, DEMO_STEPS, pause_event=pause)
    if job is None:
        return False
    if plan == "resume":
        window.panels.training.follow_run(run["id"], _checkpoint_step(store, run["id"]))
        window.status.showMessage(f"Demo: resuming {run['name']} from its last checkpoint; watch the curves.", 8000)
    else:
        _SelectDemoData(window, job.id)
        window.status.showMessage("Demo: training a tiny model on generated toy stories; watch the curves.", 8000)
    return True


class _SelectDemoData(QObject):
    """Selects the demo dataset in the Data panel (its statistics show) once the new demo job has made
    it: at the job's first step, when the window has refreshed the panels."""

    def __init__(self, window: Any, job_id: int) -> None:
        super().__init__(window)
        self._window, self._job_id = window, job_id
        window.runner.jobProgress.connect(self._progress)

    @Slot(int, str, object)
    def _progress(self, job_id: int, _lane: str, events: tuple) -> None:
        if job_id != self._job_id or not any(isinstance(e, StepLogged) for e in events):
            return
        self._window.runner.jobProgress.disconnect(self._progress)
        store, table = self._window.store, self._window.panels.dataset.datasets
        if store is not None and store.name_taken("datasets", DEMO_DATASET) and table.selected_key() is None:
            self._window.panels.dataset.select_dataset(store.get_dataset(DEMO_DATASET)["id"])
        self.deleteLater()


def _checkpoint_step(store: ProjectStore, run_id: int) -> int:
    """The step a resumed run goes on from: its newest checkpoint's (0 without one)."""
    return max((int(row["step"]) for row in store.list_checkpoints(run_id)), default=0)


def _show_run(window: Any, run: dict[str, Any]) -> bool:
    """The demo run needs no training here: select it in the Training panel and the Playground."""
    window.panels.training.refresh(select_run=run["id"])
    window.panels.playground.select_run(run["name"])
    if run["status"] in TRAINING_ELSEWHERE:
        text = f"Demo: {run['name']} is being trained in another window of LM Workbench."
    else:
        text = f"Demo: {run['name']} is trained ({run['step']:,} steps); try it in the Playground."
    window.status.showMessage(text, 15_000)
    return True
