"""Tiny training jobs for the training-engine tests: a 2-layer, 32-dim GPT on random tokens."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from workbench.core.base.events import StepLogged, run_to_end
from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.core.training.loop import TrainJob
from workbench.core.training.state import seed_everything

VOCAB = 48
MODEL_SPEC = ModelSpec(arch="gpt2", n_layer=2, n_head=2, n_embd=32, block_size=16, vocab_size=VOCAB, dropout=0.1)
TRAIN_SPEC = TrainSpec(batch_size=4, max_steps=30, eval_interval=10, eval_batches=2, warmup=5, lr=3e-3,
                       device="cpu", sample_tokens=8)


def token_arrays(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A learnable stream (a noisy repeating pattern) so the loss really falls."""
    rng = np.random.default_rng(seed)
    pattern = rng.integers(0, VOCAB, size=37)
    stream = np.tile(pattern, 400)
    noise = rng.random(stream.size) < 0.1
    stream[noise] = rng.integers(0, VOCAB, size=int(noise.sum()))
    stream = stream.astype(np.uint16)
    return stream[:12000], stream[12000:]


def loss_fn(model: torch.nn.Module, ids: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    from workbench.core.models.modeling import compute_loss

    return compute_loss(model, MODEL_SPEC, ids, generator=generator)


def write_model(model: torch.nn.Module, folder: Path) -> None:
    from workbench.core.models.modeling import save_model_dir

    save_model_dir(model, MODEL_SPEC, folder)


def build(spec: ModelSpec = MODEL_SPEC) -> torch.nn.Module:
    from workbench.core.models.modeling import build_model

    return build_model(spec)


def make_job(checkpoints: Path, *, resume: Path | None = None, **train_overrides) -> TrainJob:
    from workbench.core.models.modeling import load_model_dir

    train_spec = replace(TRAIN_SPEC, **train_overrides)
    seed_everything(train_spec.seed)
    model = load_model_dir(resume, for_training=True)[0] if resume is not None else build()
    train, val = token_arrays()
    return TrainJob(model=model, model_spec=MODEL_SPEC, train_spec=train_spec, train_data=train, val_data=val,
                    checkpoints_dir=checkpoints, loss_fn=loss_fn, write_model=write_model, resume_from=resume)


def run_all(gen) -> tuple[list, object]:
    """All events of a generator and its return value."""
    return run_to_end(gen)


def step_losses(events) -> dict[int, float]:
    return {e.step: e.loss for e in events if isinstance(e, StepLogged)}
