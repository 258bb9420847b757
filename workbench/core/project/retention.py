"""Which checkpoints of a run to keep: a pure policy, no files and no database.

A run keeps a checkpoint at every evaluation. Under the default policy ("auto") all of them stay
while together they take less than the run's budget (2 GB unless the run says otherwise; 0 keeps
only the protected ones); past it, older ones are thinned so that the history left is about evenly
spaced on a logarithmic scale of age: the last few evaluations all stay, and further back the kept steps lie ever further apart
(exponentially growing spacing), so a long run still shows its whole history in a few checkpoints.
The first checkpoint of the run anchors the start of that history and goes only when nothing else
can. The latest, the best and every pinned checkpoint are never removed, whatever the budget;
"all" keeps everything.

`plan_removals` returns the steps to remove, in the order it chose them, removing no more than
needed to come back under the budget. `run_records.RunRecorder` applies it after each checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from workbench.core.base.specs import TrainSpec

KeepMode = Literal["all", "auto"]
KEEP_MODES: tuple[str, ...] = ("auto", "all")
GB = 2**30  # the units `disk.size_text` shows sizes in
DEFAULT_BUDGET_GB: float = TrainSpec.checkpoint_budget_gb  # one default, in the spec


@dataclass(frozen=True)
class RetentionPolicy:
    keep: KeepMode = "auto"
    budget_bytes: int = int(DEFAULT_BUDGET_GB * GB)

    @classmethod
    def from_train_spec(cls, spec: Mapping[str, Any] | None) -> RetentionPolicy:
        """The policy a run's `train_spec` (a dict, as stored) names; runs from before it: the default."""
        spec = spec or {}
        keep = spec.get("keep_checkpoints", "auto")
        budget = spec.get("checkpoint_budget_gb", DEFAULT_BUDGET_GB)
        if keep not in KEEP_MODES or not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget < 0:
            return cls()  # a hand-edited row: the safe default, never "delete everything"
        return cls(keep=keep, budget_bytes=int(budget * GB))

    def describe(self) -> str:
        if self.keep == "all":
            return "keep every checkpoint"
        return f"keep every checkpoint up to {self.budget_bytes / GB:g} GB, then thin older ones"


@dataclass(frozen=True)
class Held:
    """One checkpoint as the policy sees it."""

    step: int
    size_bytes: int
    protected: bool = False  # latest, best or pinned


def plan_removals(held: Sequence[Held], policy: RetentionPolicy) -> list[int]:
    """The steps to remove from `held` under `policy`, in removal order (see the module's text)."""
    if policy.keep == "all":
        return []
    live = sorted(held, key=lambda h: h.step)
    total = sum(h.size_bytes for h in live)
    removed: list[int] = []
    while total >= policy.budget_bytes:  # "under the budget": a budget of 0 keeps only the protected ones
        index = _thinnest(live)
        if index is None:
            break
        gone = live.pop(index)
        total -= gone.size_bytes
        removed.append(gone.step)
    return removed


def _thinnest(live: list[Held]) -> int | None:
    """Index of the unprotected checkpoint whose removal leaves the smallest gap on a log scale of
    age; the first and the newest go only when no checkpoint between them can (oldest first)."""
    if not live:
        return None
    newest = live[-1].step
    steps = [h.step for h in live]
    gaps = [b - a for a, b in zip(steps, steps[1:], strict=False) if b > a]
    unit = min(gaps) if gaps else 1  # ages are counted in this unit (about the evaluation interval) + 1
    best: tuple[float, int] | None = None
    for i in range(1, len(live) - 1):
        if live[i].protected:
            continue
        # log(age of the older neighbour) - log(age of the younger one): the gap its removal leaves
        gap = math.log(newest - steps[i - 1] + unit) - math.log(newest - steps[i + 1] + unit)
        if best is None or gap < best[0]:  # ties: the older one goes (strict <, ascending steps)
            best = (gap, i)
    if best is not None:
        return best[1]
    ends = [i for i in (0, len(live) - 1) if not live[i].protected]
    return ends[0] if ends else None
