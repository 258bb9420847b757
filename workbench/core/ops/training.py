"""Training a run of a project: `train(store, run_id)` drives `train_loop` and records it.

    run = yield from create_run(store, dataset="shake", model_spec=..., train_spec=...)   # train_setup
    result = yield from train(store, run["id"])                                          # RunFinished
    run = prepare_resume(store, "gpt2-shake", max_steps=4000)                           # train_setup
    result = yield from train(store, run["id"], resume=True)

`train` reads the specs from the run row, encodes the dataset if needed (progress events), builds
the model (or loads it from the checkpoint, or from a pretrained source), and hands every event to
a `RunRecorder`, the run's single writer, while it holds the run's lock (one training process per
run; `core.project.run_lock`). Closing the generator saves a checkpoint and marks the
run "stopped"; `stop` (a threading.Event) does the same but still yields the last events; `pause`
holds the loop between steps (status "paused", heartbeat still written).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import torch

from workbench.core.base.events import Notice, Progress, RunFinished
from workbench.core.base.specs import ModelSpec, TrainSpec, spec_from_dict
from workbench.core.project.checkpoints import remove_leftovers, resume_checkpoint
from workbench.core.project.run_lock import RunLock
from workbench.core.project.run_records import RunRecorder
from workbench.core.project.store import ProjectStore
from workbench.core.tokenizers.protocol import Tokenizer
from workbench.core.training.loop import Flag, LoopEvent, TrainJob, train_loop
from workbench.core.training.state import seed_everything

if TYPE_CHECKING:
    from workbench.core.ops.catalog import TokenData

SnapshotFn = Callable[[torch.nn.Module, int], tuple[str, str] | None]  # TrainJob.snapshot


def configure_threads(train_spec: TrainSpec | None = None, *, headless: bool = False) -> int:
    """Set torch's intra-op threads before any torch work (DESIGN.md section 3): the spec's number, or
    `devices.choose_num_threads`' probe (done once per process). The GUI keeps a core for itself;
    a headless run (`headless=True`) may use every core if the probe finds that faster."""
    from workbench.core.base.devices import choose_num_threads

    if train_spec is not None and train_spec.num_threads > 0:
        torch.set_num_threads(train_spec.num_threads)
        return train_spec.num_threads
    return choose_num_threads(keep_free=0 if headless else 1)


def train(store: ProjectStore, run_id: int, *, resume: bool = False, stop: Flag | None = None,
          pause: Flag | None = None, lock: RunLock | None = None) -> Generator[LoopEvent | Progress, None, RunFinished]:
    """Train (or resume) run `run_id` to its `max_steps`; returns how it ended.

    The run's lock (`run_lock.RunLock`) is held throughout: `lock`, already taken by the caller, or one
    taken here, before anything is read or written, so a second trainer of the run fails at its
    first step with `RunInUseError` and changes nothing.
    """
    held = lock if lock is not None else RunLock(store.root, run_id, store.get_run(run_id)["name"]).acquire()
    try:
        return (yield from _train(store, run_id, resume=resume, stop=stop, pause=pause))
    finally:
        if lock is None:
            held.release()


def _train(store: ProjectStore, run_id: int, *, resume: bool, stop: Flag | None,
           pause: Flag | None) -> Generator[LoopEvent | Progress, None, RunFinished]:
    from workbench.core.base import devices
    from workbench.core.models import modeling
    from workbench.core.ops.catalog import ensure_token_cache, load_project_tokenizer, tokenizer_dir

    run = store.get_run(run_id)
    model_spec = spec_from_dict(ModelSpec, run["model_spec"])
    train_spec = spec_from_dict(TrainSpec, run["train_spec"])
    checkpoint_row = checkpoint_dir = None
    notes: list[str] = []
    found = resume_checkpoint(store, run) if resume else None
    if found is not None:
        checkpoint_row, checkpoint_dir, notes = found
    elif resume:  # queued, or killed before its first checkpoint: nothing to continue from, so start over
        notes = [f"run {run['name']!r} has no checkpoint yet, so it starts from the beginning"]
    recorder = RunRecorder(store, run_id)
    try:
        for note in notes:
            yield Notice(note)
        device = devices.choose_device(train_spec.device)
        precision = devices.resolve_precision(device, train_spec.precision)
        dataset_row, tokenizer_row = store.get_dataset(run["dataset_id"]), store.get_tokenizer(run["tokenizer_id"])
        data = yield from ensure_token_cache(store, dataset_row, tokenizer_row)
        tokenizer = load_project_tokenizer(store, tokenizer_row)
        seed_everything(train_spec.seed)
        model = _model_for(modeling, model_spec, checkpoint_dir)
        checkpoints_dir = store.path(run["dir"], "checkpoints", what=f"the folder of run {run['name']!r}")
        remove_leftovers(checkpoints_dir)
        job = TrainJob(
            model=model, model_spec=model_spec, train_spec=train_spec, train_data=data.train, val_data=data.val,
            checkpoints_dir=checkpoints_dir,
            loss_fn=_loss_fn(modeling, model_spec, tokenizer.mask_token_id),
            write_model=lambda m, folder: modeling.save_model_dir(m, model_spec, folder),
            device=device, precision=precision, autocast=lambda: devices.autocast(device, precision),
            tokenizer=tokenizer, tokenizer_dir=tokenizer_dir(store, tokenizer_row), relative_to=store.root,
            resume_from=checkpoint_dir, run_id=run_id, memory_mb=lambda: devices.memory_mb(device),
            snapshot=_attention_snapshots(store, run["dir"], model_spec, tokenizer, data),
        )
    except GeneratorExit:
        recorder.finish("stopped", int(run["step"]), "stopped before training started")
        raise
    except BaseException as exc:
        recorder.finish("failed", int(run["step"]), f"could not start: {exc}")
        raise
    start_step = int(checkpoint_row["step"]) if checkpoint_row else 0
    recorder.start(start_step, resumed=resume)
    try:
        return (yield from train_loop(job, sink=recorder, stop=stop, pause=pause))
    except BaseException as exc:  # the loop records how it ended; this covers errors before its first step
        if not recorder.finished:
            status = "stopped" if isinstance(exc, GeneratorExit) else "failed"
            recorder.finish(status, start_step, f"could not start: {exc}" if status == "failed" else "")
        raise


def _attention_snapshots(store: ProjectStore, run_dir: str, spec: ModelSpec, tokenizer: Tokenizer,
                         data: TokenData) -> SnapshotFn | None:
    """The trainer's snapshot callback: attention of a fixed probe (the first validation tokens)."""
    if spec.arch == "lstm":
        return None  # no attention to show
    from workbench.core.attention.snapshots import PROBE_TOKENS, save_attention_snapshot

    source = data.val if len(data.val) >= 8 else data.train
    probe = tokenizer.decode([int(t) for t in source[: min(PROBE_TOKENS, spec.block_size)]])

    def snapshot(model: torch.nn.Module, step: int) -> tuple[str, str] | None:
        path = save_attention_snapshot(store.root, run_dir, step, model, tokenizer, probe)
        return (store.relative(path), probe) if path is not None else None

    return snapshot


def _model_for(modeling: Any, spec: ModelSpec, checkpoint_dir: Any) -> torch.nn.Module:
    if checkpoint_dir is not None:
        model, _ = modeling.load_model_dir(checkpoint_dir, for_training=True)
    elif spec.init_from:
        from workbench.core.models.pretrained import load_pretrained

        model, _ = load_pretrained(spec.init_from, dropout=spec.dropout)
    else:
        model = modeling.build_model(spec)
    return model


def _loss_fn(modeling: Any, spec: ModelSpec, mask_token_id: int | None):
    def loss(model: torch.nn.Module, ids: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return modeling.compute_loss(model, spec, ids, mask_token_id=mask_token_id, generator=generator)

    return loss
