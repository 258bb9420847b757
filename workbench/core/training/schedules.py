"""Learning-rate schedules: linear warmup, then cosine, linear or constant.

The learning rate is a pure function of the optimizer step, so a resumed run needs no scheduler
object to restore: the step alone says where in the schedule it is, even when `max_steps` was
raised on resume (the decay then stretches to the new end from that step on).
"""

from __future__ import annotations

import math

from workbench.core.base.specs import TrainSpec


def lr_factor(step: int, *, warmup: int, max_steps: int, schedule: str, min_lr_ratio: float) -> float:
    """Multiplier of the peak learning rate for optimizer step `step` (0-based: the step being taken).

    Warmup rises linearly from 1/warmup to 1 over `warmup` steps; then the factor decays from 1 to
    `min_lr_ratio` at `max_steps` (cosine or linear) or stays at 1 (constant).
    """
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    span = max(1, max_steps - warmup)
    progress = min(1.0, max(0.0, (step - warmup) / span))
    if schedule == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    elif schedule == "linear":
        decay = 1.0 - progress
    else:
        raise ValueError(f"unknown schedule {schedule!r}")
    return min_lr_ratio + (1.0 - min_lr_ratio) * decay


def lr_at(step: int, spec: TrainSpec) -> float:
    """Learning rate of optimizer step `step` under `spec`."""
    return spec.lr * lr_factor(step, warmup=spec.warmup, max_steps=spec.max_steps,
                               schedule=spec.schedule, min_lr_ratio=spec.min_lr_ratio)
