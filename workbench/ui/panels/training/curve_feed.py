"""Hands the curves widget the runs to draw: one run, or several overlaid for comparison.

The seam with the curves widget (`ui/widgets/charts`): `set_runs(list of RunCurves)` takes every
selected run, the detailed one first, and gives each one colour across all charts. This keeps
which runs are drawn, for the panel and its tests. `load_curves` reads one run from the store
with the markers the curves widget's own loader does not know: where the run was resumed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable
from typing import Any

from workbench.core.project.run_records import RESUME_METRIC
from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.charts.data import Marker, RunCurves
from workbench.ui.widgets.charts.from_store import load_run


class CurveFeed:
    def __init__(self, plot: Any) -> None:
        self.plot = plot
        self.runs: list[Any] = []

    def show(self, runs: list[Any]) -> None:
        """`runs`: `charts.data.RunCurves` with their `run_id`, the detailed run first."""
        self.runs = list(runs)
        self.plot.set_runs(self.runs)

    def overlaid(self) -> list[Hashable]:
        """The ids of the runs now drawn, the detailed one first."""
        return [run.run_id for run in self.runs]

    def clear(self) -> None:
        self.show([])


def load_curves(store: ProjectStore, run_id: int, upto_step: int | None = None) -> RunCurves:
    """The run's stored curves and markers, its resume points among them."""
    curves = load_run(store, run_id, upto_step=upto_step)
    return with_markers(curves, resume_markers(store, run_id, upto_step))


def resume_markers(store: ProjectStore, run_id: int, upto_step: int | None = None) -> list[Marker]:
    """A dashed line at each step the run was resumed from (the training process records them)."""
    markers = []
    for row in store.metrics(run_id, RESUME_METRIC):
        step = int(row["step"])
        if upto_step is None or step <= upto_step:
            aim = f" (to step {int(row['value'])})" if row["value"] else ""
            markers.append(Marker(float(step), "resume", f"resumed at step {step}{aim}"))
    return markers


def with_markers(curves: RunCurves, markers: Iterable[Marker]) -> RunCurves:
    """`curves` with `markers` added; one marker of a kind per step (the first one given wins)."""
    seen: set[tuple[str, float]] = set()
    kept = []
    for marker in (*curves.markers, *markers):
        if (marker.kind, marker.step) not in seen:
            seen.add((marker.kind, marker.step))
            kept.append(marker)
    return dataclasses.replace(curves, markers=tuple(kept))
