"""The training loop as a generator, independent of the project store.

`train_loop(job)` yields `StepLogged` after every optimizer step, `EvalFinished`, `SampleGenerated`
and `CheckpointSaved` at every evaluation and on pausing, `RunStatusChanged` while paused, and returns
`RunFinished`. Every event also goes to `sink.record` (the run recorder), including the ones raised
from `finally` when the caller closes the generator: then the loop saves a checkpoint at the
current step and records status "stopped" without yielding.

The order inside one step (sample batches, forward/backward, clip, optimizer step, `step += 1`,
yield) means a stop at any yield leaves a consistent state: a checkpoint taken there resumes to
exactly the same losses as an uninterrupted run.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import (
    AttentionSnapshotSaved,
    CheckpointSaved,
    EvalFinished,
    Notice,
    RunFinished,
    RunStatusChanged,
    SampleGenerated,
    StepLogged,
)
from workbench.core.base.specs import DEFAULT_EVAL_BATCHES, ModelSpec, TrainSpec, spec_to_dict
from workbench.core.project.checkpoints import read_checkpoint_state, save_checkpoint
from workbench.core.tokenizers.protocol import Tokenizer
from workbench.core.training.batches import BatchSampler, EveryWindow, fixed_windows
from workbench.core.training.evaluation import LossFn, greedy_sample, perplexity, validation_loss
from workbench.core.training.flat_params import FlatParameters
from workbench.core.training.oom import out_of_memory_message
from workbench.core.training.optim import (
    accumulate_gradients,
    clip_gradients,
    make_optimizer,
    optimizer_state_from_files,
    optimizer_state_to_files,
    set_lr,
    zero_gradients,
)
from workbench.core.training.schedules import lr_at
from workbench.core.training.state import capture_rng, restore_rng

LoopEvent = (StepLogged | EvalFinished | SampleGenerated | CheckpointSaved | Notice | RunStatusChanged
             | AttentionSnapshotSaved)
PAUSE_POLL_S = 0.25


class RunSink(Protocol):
    def record(self, event: Any) -> None: ...
    def tick(self) -> None: ...


class _NullSink:
    def record(self, event: Any) -> None:
        pass

    def tick(self) -> None:
        pass


class Flag(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class TrainJob:
    """Everything one training session needs; built by `training.train` or directly by tests."""

    model: torch.nn.Module
    model_spec: ModelSpec
    train_spec: TrainSpec
    train_data: np.ndarray
    val_data: np.ndarray
    checkpoints_dir: Path
    loss_fn: LossFn  # (model, ids [B, T+1], generator) -> scalar loss
    write_model: Callable[[torch.nn.Module, Path], None]  # model files of a checkpoint
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: str = "fp32"  # resolved: fp32 | bf16 | fp16
    autocast: Callable[[], AbstractContextManager] = nullcontext
    tokenizer: Tokenizer | None = None  # encode/decode for the evaluation sample; None = no sample
    tokenizer_dir: Path | None = None  # copied into each checkpoint
    relative_to: Path | None = None  # event paths are relative to this folder (the project)
    resume_from: Path | None = None  # a verified checkpoint folder
    run_id: int = 0
    memory_mb: Callable[[], float] = lambda: 0.0
    # At each evaluation: write the attention of a fixed probe text, return (path, probe) or None.
    snapshot: Callable[[torch.nn.Module, int], tuple[str, str] | None] | None = None


@dataclass
class _Counters:
    step: int = 0
    best_val_loss: float | None = None
    bad_evals: int = 0
    elapsed_s: float = 0.0
    last_checkpoint: int | None = None


def train_loop(job: TrainJob, *, sink: RunSink | None = None, stop: Flag | None = None,
               pause: Flag | None = None) -> Generator[LoopEvent, None, RunFinished]:
    return (yield from _Loop(job, sink or _NullSink(), stop, pause).run())


class _NotFiniteValidation(Exception):
    """The validation loss is NaN or infinite: the run fails without saving that model."""


class _Loop:
    def __init__(self, job: TrainJob, sink: RunSink, stop: Flag | None, pause: Flag | None) -> None:
        self.job, self.sink, self.stop, self.pause = job, sink, stop, pause
        spec = job.train_spec
        self.model = job.model.to(job.device)
        self.model.train()
        self.flat = FlatParameters.pack(self.model, spec.weight_decay)  # None: the model keeps its own tensors
        self.optimizer = make_optimizer(self.model, spec, flat=self.flat)
        self.scaler = torch.amp.GradScaler(job.device.type, enabled=job.precision == "fp16")
        self.sampler = BatchSampler(job.train_data, job.model_spec.block_size, spec.batch_size, spec.seed)
        self.mask_generator = torch.Generator(device=job.device)
        self.mask_generator.manual_seed(spec.seed)
        self.counters = _Counters()
        self.notices: list[str] = []
        self.eval_windows = self._eval_windows()
        if job.resume_from is not None:
            self._restore(job.resume_from)

    def _eval_windows(self) -> np.ndarray | EveryWindow:
        job, spec = self.job, self.job.train_spec
        block, val = job.model_spec.block_size, job.val_data
        if len(val) >= block + 1:
            if spec.eval_batches == 0:  # the whole split: exact, and as slow as the split is long
                return EveryWindow(val, block)
            return fixed_windows(val, block, spec.eval_batches * spec.batch_size, spec.seed + 1)
        self.notices.append(f"the validation split has only {len(val)} tokens, less than one window of "
                            f"{block + 1}; validation loss is measured on training windows instead")
        batches = spec.eval_batches or DEFAULT_EVAL_BATCHES  # a sample of the training split, never all of it
        return fixed_windows(job.train_data, block, batches * spec.batch_size, spec.seed + 1)

    def emit(self, event: Any) -> Any:
        self.sink.record(event)
        return event

    # ---- the loop ------------------------------------------------------------------------------

    def run(self) -> Generator[LoopEvent, None, RunFinished]:
        c = self.counters
        status, message = "finished", ""
        try:
            for note in self.notices:
                yield self.emit(Notice(note))
            status, message = yield from self._steps()
            if status == "stopped" and c.last_checkpoint != c.step:
                yield self.emit(self._checkpoint())
        except GeneratorExit:
            message = "stopped by the user"
            if c.last_checkpoint != c.step:
                try:
                    self.emit(self._checkpoint())  # cannot yield while closing; the recorder still sees it
                except Exception as exc:  # the run must still be recorded as stopped
                    message = f"stopped by the user; the checkpoint of step {c.step} could not be saved ({exc})"
            self.sink.record(self._finished("stopped", message))
            raise
        except KeyboardInterrupt:  # a second Ctrl-C: stopped by the user, without a new checkpoint
            kept = f"; the checkpoint of step {c.last_checkpoint} is kept" if c.last_checkpoint is not None else ""
            self.sink.record(self._finished("stopped", f"aborted by the user{kept}"))
            raise
        except BaseException as exc:
            # if the project cannot record it either (a full disk), the first error says more; the run,
            # left "running", is marked interrupted once this process is gone
            with suppress(WorkbenchError):
                self.sink.record(self._finished("failed", f"{type(exc).__name__}: {exc}"))
            raise
        return self.emit(self._finished(status, message))

    def _finished(self, status: str, message: str) -> RunFinished:
        return RunFinished(run_id=self.job.run_id, status=status, step=self.counters.step, message=message)

    def _steps(self) -> Generator[LoopEvent, None, tuple[str, str]]:
        job, spec, c = self.job, self.job.train_spec, self.counters
        tokens_per_step = spec.batch_size * spec.grad_accum * job.model_spec.block_size
        last = time.perf_counter()
        while c.step < spec.max_steps:
            if self.stop is not None and self.stop.is_set():
                return "stopped", "stopped by the user"
            if self.pause is not None and self.pause.is_set():
                yield from self._paused()
                last = time.perf_counter()
                continue
            lr = lr_at(c.step, spec)
            set_lr(self.optimizer, lr)
            out_of_memory = False
            try:
                loss, grad_norm, finite = self._optimizer_step()
            except torch.OutOfMemoryError:
                out_of_memory = True  # probe outside this block: its traceback still holds the failed step's tensors
            if out_of_memory:
                gc.collect()
                return "failed", out_of_memory_message(self.model, self.sampler.next_batch(), self._micro_loss,
                                                       job.device, spec.grad_accum, job.autocast,
                                                       packed=self.flat is not None)
            if not finite:
                what = (f"the loss became {loss}" if not math.isfinite(loss)
                        else f"the gradient norm became {grad_norm}")
                return "failed", self._not_finite_message(what, c.step + 1, lr)
            c.step += 1
            now = time.perf_counter()
            c.elapsed_s += now - last
            yield self.emit(StepLogged(step=c.step, loss=loss, lr=lr, grad_norm=grad_norm,
                                       tokens_per_s=tokens_per_step / max(now - last, 1e-9),
                                       memory_mb=float(job.memory_mb()), elapsed_s=c.elapsed_s))
            if c.step % spec.eval_interval == 0 or c.step == spec.max_steps:
                try:
                    early = yield from self._evaluate()
                except _NotFiniteValidation as exc:
                    return "failed", str(exc)
                except torch.OutOfMemoryError:
                    return "failed", (f"out of memory on {job.device} while evaluating at step {c.step}; the last "
                                      "checkpoint is kept. Use a smaller --batch-size (evaluation uses it too)")
                if early:
                    return "finished", "early stopped"
            last = time.perf_counter()  # evaluation time does not count against tokens/s
        return "finished", ""

    def _micro_loss(self, model: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
        return self.job.loss_fn(model, ids, self.mask_generator)

    def _optimizer_step(self) -> tuple[float, float, bool]:
        """One optimizer step; (mean loss, gradient norm before clipping, both finite)."""
        job, spec = self.job, self.job.train_spec
        micro = (self._to_device(self.sampler.next_batch()) for _ in range(spec.grad_accum))
        try:
            loss = accumulate_gradients(self.model, micro, self._micro_loss, accum=spec.grad_accum,
                                        autocast=job.autocast, scaler=self.scaler)
            if not math.isfinite(loss):
                return loss, math.nan, False
            grad_norm = clip_gradients(self.model, spec.grad_clip, optimizer=self.optimizer, scaler=self.scaler,
                                       flat=self.flat)
            if not math.isfinite(grad_norm) and not self.scaler.is_enabled():  # fp16's scaler skips such steps
                return loss, grad_norm, False
            if self.scaler.is_enabled():
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                self.optimizer.step()
        finally:
            zero_gradients(self.optimizer, self.flat)
        return loss, grad_norm, True

    def _to_device(self, batch: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(batch)
        if self.job.device.type == "cuda":
            return tensor.pin_memory().to(self.job.device, non_blocking=True)
        return tensor.to(self.job.device)

    def _not_finite_message(self, what: str, step: int, lr: float) -> str:
        """`what` ("the loss became nan") happened at `step`: say what is kept and what to try."""
        c = self.counters
        kept = (f"the last good checkpoint (step {c.last_checkpoint}) is kept" if c.last_checkpoint is not None
                else "no checkpoint had been saved yet")
        return (f"{what} at step {step} (learning rate {lr:.3g}); training stopped and {kept}. "
                f"Lower --lr, raise --warmup or use fp32 precision, then start again")

    def _paused(self) -> Generator[LoopEvent, None, None]:
        c = self.counters
        if c.last_checkpoint != c.step:
            # The weights as they are now, on disk: the Playground and Attention panels use this
            # checkpoint for the paused run. A checkpoint rather than the model in memory: the model
            # belongs to this thread (only numbers cross threads), and a file is verified, survives
            # a crash and is the same thing every panel and command already opens.
            yield self.emit(self._checkpoint())
        yield self.emit(RunStatusChanged(step=self.counters.step, status="paused"))
        while self.pause is not None and self.pause.is_set():
            if self.stop is not None and self.stop.is_set():
                break
            time.sleep(PAUSE_POLL_S)
            self.sink.tick()
            yield RunStatusChanged(step=self.counters.step, status="paused")  # a cancellation point
        yield self.emit(RunStatusChanged(step=self.counters.step, status="running"))

    # ---- evaluation and checkpoints ------------------------------------------------------------

    def _evaluate(self) -> Generator[LoopEvent, None, bool]:
        """Validation loss, sample, checkpoint; True when early stopping says enough."""
        job, spec, c = self.job, self.job.train_spec, self.counters
        val_loss = validation_loss(self.model, self.eval_windows, spec.batch_size, job.loss_fn, job.device,
                                   mask_seed=spec.seed + 2, autocast=job.autocast, tick=self.sink.tick)
        if not math.isfinite(val_loss):  # no checkpoint of a broken model; NaN would also be "best" forever
            raise _NotFiniteValidation(self._not_finite_message(f"the validation loss became {val_loss}", c.step,
                                                                lr_at(c.step, spec)))
        improved = c.best_val_loss is None or val_loss < c.best_val_loss
        if improved:
            c.best_val_loss, c.bad_evals = val_loss, 0
        else:
            c.bad_evals += 1
        yield self.emit(EvalFinished(step=c.step, val_loss=val_loss, val_ppl=perplexity(val_loss), best=improved))
        if job.tokenizer is not None and job.model_spec.arch != "bert" and spec.sample_tokens > 0:
            text = greedy_sample(self.model, job.tokenizer, spec.sample_prompt, spec.sample_tokens,
                                 job.model_spec.block_size, job.device, job.autocast)
            yield self.emit(SampleGenerated(step=c.step, prompt=spec.sample_prompt, text=text))
        yield self.emit(self._checkpoint(kind="best" if improved else "latest"))
        yield from self._snapshot()
        return spec.patience > 0 and c.bad_evals >= spec.patience

    def _snapshot(self) -> Generator[LoopEvent, None, None]:
        """Attention of the probe text for the time-lapse; a failure here must not end the run."""
        if self.job.snapshot is None:
            return
        try:
            saved = self.job.snapshot(self.model, self.counters.step)
        except Exception as exc:  # noqa: BLE001 - reported, training goes on
            yield self.emit(Notice(f"attention snapshot at step {self.counters.step} failed: {exc}"))
            return
        if saved is not None:
            path, probe = saved
            yield self.emit(AttentionSnapshotSaved(step=self.counters.step, path=path, probe_text=probe))

    def _checkpoint(self, kind: str = "latest") -> CheckpointSaved:
        job, c = self.job, self.counters
        rng_state, rng_tensors = capture_rng({"mask": self.mask_generator})
        opt_tensors, opt_meta = optimizer_state_to_files(self.optimizer)
        state = {
            "counters": {"best_val_loss": c.best_val_loss, "bad_evals": c.bad_evals, "elapsed_s": c.elapsed_s},
            "sampler": self.sampler.state(), "rng": rng_state, "optimizer": opt_meta,
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "schedule": {"name": job.train_spec.schedule, "lr": job.train_spec.lr, "warmup": job.train_spec.warmup,
                         "max_steps": job.train_spec.max_steps, "min_lr_ratio": job.train_spec.min_lr_ratio},
            "model_spec": spec_to_dict(job.model_spec), "train_spec": spec_to_dict(job.train_spec),
        }
        saved = save_checkpoint(job.checkpoints_dir, c.step, write_model=lambda d: job.write_model(self.model, d),
                                state=state, tensor_files={"optimizer.safetensors": opt_tensors,
                                                           "rng.safetensors": rng_tensors},
                                tokenizer_dir=job.tokenizer_dir)
        c.last_checkpoint = c.step
        path = saved.path.relative_to(job.relative_to).as_posix() if job.relative_to else str(saved.path)
        return CheckpointSaved(step=c.step, path=path, kind=kind, sha256=saved.sha256)

    def _restore(self, folder: Path) -> None:
        """Optimizer, data position, RNG and counters from a verified checkpoint (weights are loaded by the caller)."""
        state, tensors = read_checkpoint_state(folder)
        saved = optimizer_state_from_files(tensors["optimizer.safetensors"], state["optimizer"])
        self.optimizer.load_state_dict(self.flat.unpack_optimizer_state(saved) if self.flat is not None else saved)
        self.sampler.set_state(state["sampler"])
        restore_rng(state["rng"], tensors["rng.safetensors"], {"mask": self.mask_generator})
        if state.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(state["scaler"])
        counters = state["counters"]
        self.counters = _Counters(step=int(state["step"]), best_val_loss=counters["best_val_loss"],
                                  bad_evals=int(counters["bad_evals"]), elapsed_s=float(counters["elapsed_s"]),
                                  last_checkpoint=int(state["step"]))
