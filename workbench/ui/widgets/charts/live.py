"""The points a batch of training events adds to the curves, per series, with their wall times."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from workbench.core.base.events import EvalFinished, StepLogged
from workbench.ui.widgets.charts.catalog import SERIES_BY_KEY

_STEP_FIELDS = ("loss", "lr", "grad_norm", "tokens_per_s", "memory_mb")


def live_points(events: Iterable[Any], now: float | None = None) -> dict[str, tuple[list[float], list[float], list[float]]]:
    """{series: (steps, values, walls)}. A step's wall time is the batch's arrival time less the
    training time (`elapsed_s`) still to come after it within the batch."""
    now = time.time() if now is None else now
    events = list(events)
    last_elapsed = max((e.elapsed_s for e in events if isinstance(e, StepLogged)), default=0.0)
    out: dict[str, tuple[list[float], list[float], list[float]]] = {}

    def add(key: str, step: int, value: float | None, wall: float) -> None:
        if value is not None and key in SERIES_BY_KEY:
            steps, values, walls = out.setdefault(key, ([], [], []))
            steps.append(step)
            values.append(float(value))
            walls.append(wall)

    for event in events:
        if isinstance(event, StepLogged):
            wall = now - (last_elapsed - event.elapsed_s)
            for key in _STEP_FIELDS:
                add(key, event.step, getattr(event, key), wall)
        elif isinstance(event, EvalFinished):
            add("val_loss", event.step, event.val_loss, now)
            add("val_ppl", event.step, event.val_ppl, now)
    return out
