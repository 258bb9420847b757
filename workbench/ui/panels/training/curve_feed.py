"""Hands the curves widget the runs to draw: one run, or several overlaid for comparison.

The seam with the curves widget (`ui/widgets/charts`): `set_runs(list of RunCurves)` takes every
selected run, the detailed one first, and gives each one colour across all charts. This keeps
which runs are drawn, for the panel and its tests.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


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
