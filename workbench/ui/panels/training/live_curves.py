"""The curves of the run that trains in this window, with the other selected runs overlaid.

Streamed points go to one key of the curves widget: `LIVE` until the run's id is known (a new run
is made by the job itself, and found by the panel's next table refresh), then the run's id. Once it
is known the live curves take the run's name, clipping threshold (the dashed line above which every
gradient norm was clipped), tokens per step and stored markers. The other selected runs stay drawn
beside it from the store; changing them redraws the live run from what was drawn, not from the
store, which holds only what the job flushed.

Gradient-norm spikes are found as the points arrive (`SpikeWatch`) by the same rule as the stored
curves' (`charts.markers.gradient_spikes`), so they are marked while the run trains: looked for
at most every `SPIKE_EVERY_S`, about as often as the curves are redrawn (on every batch of events,
ten a second, it was a fifth of the window's Python time while a run trained).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np

from workbench.core.project.store import ProjectStore
from workbench.ui.panels.training.curve_feed import CurveFeed, load_curves, with_markers
from workbench.ui.widgets.charts.data import Marker, RunCurves
from workbench.ui.widgets.charts.grid import LIVE, LIVE_NAME
from workbench.ui.widgets.charts.markers import gradient_spikes

# Points kept before the new ones: the spike rule's average (weight 0.9) forgets older points
# (0.9 ** 400 is about 5e-19), so the tail gives the same spikes as the whole series.
CONTEXT = 400
SPIKE_EVERY_S = 1.0
MIN_POINTS = 10  # gradient_spikes marks nothing in a shorter series


class SpikeWatch:
    """Gradient-norm spikes among the points fed since the last call."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._steps, self._values, self._new = np.empty(0), np.empty(0), 0
        self._looked = 0.0  # time.monotonic() of the last look

    def feed(self, steps: Iterable[float], values: Iterable[float], *, now: bool = False) -> list[Marker]:
        """The spikes among the points fed since the last look; a look is taken at most every
        SPIKE_EVERY_S unless `now`."""
        new_steps = np.asarray(list(steps), dtype=np.float64)
        self._steps = np.concatenate([self._steps, new_steps])
        self._values = np.concatenate([self._values, np.asarray(list(values), dtype=np.float64)])
        self._new += len(new_steps)
        if len(self._values) < MIN_POINTS or not self._new:
            return []  # kept whole until there are enough: the first points are judged then
        if not now and time.monotonic() - self._looked < SPIKE_EVERY_S:
            return []
        self._looked = time.monotonic()
        first = float(self._steps[len(self._steps) - self._new])
        found = [m for m in gradient_spikes(self._steps, self._values) if m.step >= first]
        self._steps, self._values, self._new = self._steps[-CONTEXT:], self._values[-CONTEXT:], 0
        return found


class LiveCurves:
    """Keeps the live run's key and its spike watch; `show` overlays the other runs."""

    def __init__(self, feed: CurveFeed) -> None:
        self.feed = feed
        self.plot = feed.plot
        self.key: Hashable = LIVE
        self.spikes = SpikeWatch()
        self._cache: dict[Any, tuple[tuple[Any, ...], RunCurves]] = {}  # run id -> (version, curves)

    def begin(self, store: ProjectStore | None, others: list[int]) -> None:
        """A job starts: an empty live run first, then `others` from the store."""
        self.key = LIVE
        self.spikes.reset()
        self.feed.show([RunCurves(LIVE_NAME, {}, run_id=LIVE), *self._stored(store, others)])

    def follow(self, store: ProjectStore, run_id: int, from_step: int, others: list[int]) -> None:
        """The job resumes `run_id` from `from_step`: its curves so far come from the store."""
        self.key = run_id
        self.spikes.reset()
        resumed = Marker(float(from_step), "resume", f"resumed at step {from_step}")
        first = with_markers(load_curves(store, run_id, upto_step=from_step), [resumed])
        self.feed.show([first, *self._stored(store, [k for k in others if k != run_id])])

    def show(self, store: ProjectStore | None, run_id: int | None, others: list[int]) -> None:
        """Draw the live run (named `run_id` once known) with `others` overlaid."""
        drawn = self.drawn()
        if run_id is not None and store is not None:
            drawn = self._named(store, run_id, drawn)
            self.key = run_id
        live = drawn or RunCurves(LIVE_NAME, {}, run_id=self.key)
        self.feed.show([live, *self._stored(store, [k for k in others if k != run_id])])

    def add(self, points: dict[str, tuple[list[float], list[float], list[float]]]) -> None:
        """Append a batch of `charts.live.live_points` to the live run; mark new gradient spikes."""
        for name, (steps, values, walls) in points.items():
            self.plot.append(name, steps, values, walls, run_id=self.key)
        if "grad_norm" in points:
            steps, values, _walls = points["grad_norm"]
            for marker in self.spikes.feed(steps, values):
                self.plot.add_marker(marker, run_id=self.key)

    def drawn(self) -> RunCurves | None:
        """The live run as the curves widget holds it now (every point streamed so far)."""
        state = self.plot.grid.runs.get(self.key)
        if state is None:
            return None
        kept = {key: s for key, s in state.series.items() if s.n}
        return RunCurves(state.name, {k: (s.steps.copy(), s.values.copy()) for k, s in kept.items()},
                         {k: s.walls.copy() for k, s in kept.items()}, state.tokens_per_step,
                         tuple(state.markers), state.clip, self.key)

    def _named(self, store: ProjectStore, run_id: int, drawn: RunCurves | None) -> RunCurves:
        stored = load_curves(store, run_id)
        if drawn is None or not drawn.series:
            return stored
        last = max(float(steps[-1]) for steps, _values in drawn.series.values() if len(steps))
        markers = [m for m in stored.markers if m.step <= last]  # none of an abandoned attempt's
        return with_markers(RunCurves(stored.name, drawn.series, drawn.walls, stored.tokens_per_step, (),
                                      stored.clip, run_id), [*markers, *drawn.markers])

    def _stored(self, store: ProjectStore | None, runs: list[Any]) -> list[RunCurves]:
        """The other runs' stored curves, read again only when a run changed (its status, step or
        checkpoints): the live run is redrawn with them when it is named and on every selection
        change, and three runs of 20k steps took the GUI thread over a second to read each time."""
        if store is None:
            return []
        curves = []
        for key in runs:
            version = _version(store, key)
            cached = self._cache.get(key)
            if cached is None or cached[0] != version:
                cached = (version, load_curves(store, key))
                self._cache[key] = cached
            curves.append(cached[1])
        return curves


def _version(store: ProjectStore, run_id: int) -> tuple[Any, ...]:
    run = store.get_run(run_id)
    checkpoints = store.query("SELECT step, pinned FROM checkpoints WHERE run_id = ? ORDER BY step", (run_id,))
    resumes = store.query("SELECT COUNT(*) AS n FROM metrics WHERE run_id = ? AND name = 'resume'", (run_id,))
    return (str(store.root), run["status"], run["step"], run.get("message"),
            tuple((c["step"], c["pinned"]) for c in checkpoints), resumes[0]["n"])
