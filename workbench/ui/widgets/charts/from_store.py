"""One run's curves as the store recorded them: every metric, wall times, tokens per step, markers."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from workbench.core.project.store import ProjectStore
from workbench.ui.widgets.charts.catalog import SERIES
from workbench.ui.widgets.charts.data import Marker, RunCurves
from workbench.ui.widgets.charts.markers import gradient_spikes

_AT_STEP = re.compile(r"at step (\d+)")


def load_run(store: ProjectStore, run_id: int, upto_step: int | None = None) -> RunCurves:
    """The run's curves (up to `upto_step` when given: a resumed run's points past it are abandoned)."""
    run = store.get_run(run_id)
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    walls: dict[str, np.ndarray] = {}
    for spec in SERIES:
        table = _metric_table(store, run_id, spec.key, upto_step)
        order = np.argsort(table[:, 0], kind="stable")  # rows come in insertion order; resumes rewrite tails
        table = table[order]
        series[spec.key] = (table[:, 0], table[:, 1])
        walls[spec.key] = table[:, 2]
    model, train = _spec(run, "model_spec"), _spec(run, "train_spec")
    tokens = None
    if train.get("batch_size") and model.get("block_size"):
        tokens = float(train["batch_size"]) * float(model["block_size"]) * float(train.get("grad_accum") or 1)
    clip = float(train["grad_clip"]) if train.get("grad_clip") else None
    markers = checkpoint_markers(store, run_id) + end_markers(run)
    markers += gradient_spikes(*series["grad_norm"])
    return RunCurves(run["name"], series, walls, tokens, tuple(markers), clip, run_id)


def _metric_table(store: ProjectStore, run_id: int, name: str, upto_step: int | None) -> np.ndarray:
    """[n, 3] float64 (step, value, wall; NULL as NaN) in insertion order. Plain tuples straight into
    numpy: a dict per row (`store.metrics`) took 1.0 s of the GUI thread for three runs of 20k steps
    when a run started training beside them (bench/bench_ui_latency.py)."""
    sql = "SELECT step, value, wall FROM metrics WHERE run_id = ? AND name = ?"
    params: tuple[Any, ...] = (run_id, name)
    if upto_step is not None:
        sql += " AND step <= ?"
        params += (upto_step,)
    rows = store.execute(sql + " ORDER BY id", params).fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _spec(run: dict[str, Any], key: str) -> dict[str, Any]:
    value = run.get(key)
    return value if isinstance(value, dict) else {}


def checkpoint_markers(store: ProjectStore, run_id: int) -> list[Marker]:
    markers = []
    for row in store.list_checkpoints(run_id):
        pinned = bool(row.get("pinned"))
        value = row.get("val_loss")
        if value is None:
            loss = [r["value"] for r in store.metrics(run_id, "val_loss") if r["step"] == row["step"]]
            value = loss[-1] if loss else None
        if value is None:
            continue  # no loss to place it at (a checkpoint saved at a stop, between evaluations)
        text = f"{'pinned ' if pinned else ''}checkpoint at step {row['step']}"
        markers.append(Marker(float(row["step"]), "pinned_checkpoint" if pinned else "checkpoint", text,
                              "val_loss", float(value)))
    return markers


def end_markers(run: dict[str, Any]) -> list[Marker]:
    message, status = run.get("message") or "", run.get("status")
    if status == "finished" and "early stop" in message:
        return [Marker(float(run["step"]), "early_stop", f"early stop at step {run['step']}")]
    if status == "failed" and ("became nan" in message or "became inf" in message):
        found = _AT_STEP.search(message)
        step = int(found.group(1)) if found else int(run["step"])
        return [Marker(float(step), "nan_stop", f"stopped: not a number at step {step}")]
    return []
