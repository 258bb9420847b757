"""What the runs table and the comparison show about runs, read from the store without torch.

`run_summaries(store)` gives one `RunSummary` per run (learning rate, batch, tokenizer, parameters,
tokens/s, duration); `settings_diff(store, runs)` lists every setting of the runs' specs that differs
between them. The parameter count is read from the header of the run's latest checkpoint (its tensor
shapes): exact, a few hundred bytes read, and no model to build; a run without a checkpoint has none.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.specs import ModelSpec, TrainSpec, spec_from_dict
from workbench.core.project.checkpoint_history import run_disk_usage
from workbench.core.project.store import ProjectStore

TOKENS_PER_S_WINDOW = 50  # the speed shown is the mean of the run's last readings: the first are slow (warm-up)


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    lr: float | None
    batch: int | None  # sequences per optimizer step (micro-batch x accumulation)
    tokenizer: str
    params: int | None
    tokens_per_s: float | None
    duration_s: float | None
    disk_bytes: int = 0  # the run's folder: checkpoints, snapshots (what deleting the run frees)


def run_summaries(store: ProjectStore, runs: list[dict[str, Any]] | None = None) -> dict[int, RunSummary]:
    """{run id: summary} for `runs` (default: every run of the project)."""
    runs = store.list_runs() if runs is None else runs
    tokenizers = {row["id"]: row["name"] for row in store.list_tokenizers()}
    checkpoints = {row["run_id"]: (row["n"], row["last"]) for row in store.query(
        "SELECT run_id, COUNT(*) AS n, MAX(step) AS last FROM checkpoints GROUP BY run_id")}
    return {run["id"]: _summary(store, run, tokenizers, checkpoints.get(run["id"], (0, None))) for run in runs}


def _summary(store: ProjectStore, run: dict[str, Any], tokenizers: dict[int, str],
             checkpoints: tuple[int, int | None]) -> RunSummary:
    train = _dict(run.get("train_spec"))
    lr = train.get("lr", TrainSpec.lr)
    batch = train.get("batch_size", TrainSpec.batch_size) * train.get("grad_accum", 1)
    speed = store.query(
        "SELECT AVG(value) AS v FROM (SELECT value FROM metrics WHERE run_id = ? AND name = 'tokens_per_s' "
        "ORDER BY step DESC LIMIT ?)", (run["id"], TOKENS_PER_S_WINDOW))
    return RunSummary(run["id"], lr if isinstance(lr, (int, float)) else None,
                      batch if isinstance(batch, int) else None, tokenizers.get(run.get("tokenizer_id") or 0, ""),
                      checkpoint_params(store, run), speed[0]["v"] if speed else None, _duration_s(run),
                      _disk_bytes(store, run, checkpoints))


def _duration_s(run: dict[str, Any]) -> float | None:
    """From its first start to its end (or its last heartbeat while it trains); pauses count."""
    if not run.get("started"):
        return None
    try:
        start = datetime.fromisoformat(run["started"]).timestamp()
        if run.get("ended"):
            end = datetime.fromisoformat(run["ended"]).timestamp()
        elif run.get("heartbeat"):
            end = float(run["heartbeat"])
        else:
            return None
    except (TypeError, ValueError):
        return None
    return max(0.0, end - start)


# (project, run id, status, step, checkpoint rows) -> bytes. The table refreshes every 2 s while a run
# trains; a run folder changes only with these, so it is walked again only then.
_DISK_CACHE: dict[tuple[str, int, str, int, int, int | None], int] = {}


def _disk_bytes(store: ProjectStore, run: dict[str, Any], checkpoints: tuple[int, int | None]) -> int:
    key = (str(store.root), run["id"], run["status"], run["step"] or 0, *checkpoints)
    if key not in _DISK_CACHE:
        _DISK_CACHE[key] = run_disk_usage(store, run["id"])
    return _DISK_CACHE[key]


_PARAMS_CACHE: dict[tuple[str, float, int], int] = {}  # (path, mtime, size) -> count: the table refreshes often


def checkpoint_params(store: ProjectStore, run: dict[str, Any]) -> int | None:
    """Parameters of the run's latest checkpoint (tied weights are stored once), or None."""
    from safetensors import safe_open  # its numpy side: no torch

    rows = store.query("SELECT dir FROM checkpoints WHERE run_id = ? ORDER BY is_latest DESC, step DESC LIMIT 1",
                       (run["id"],))
    if not rows:
        return None
    try:
        path = store.path(rows[0]["dir"], "model.safetensors", what=f"a checkpoint of run {run['name']!r}")
        stat = path.stat()
        key = (str(path), stat.st_mtime, stat.st_size)
        if key not in _PARAMS_CACHE:
            with safe_open(str(path), framework="numpy") as f:
                _PARAMS_CACHE[key] = sum(math.prod(f.get_slice(name).get_shape()) for name in f.keys())  # noqa: SIM118
        return _PARAMS_CACHE[key]
    except Exception:  # a missing, damaged or outside-the-project file: the table shows no count
        return None


# ---- comparison ----------------------------------------------------------------------------------

def run_settings(store: ProjectStore, run: dict[str, Any]) -> dict[str, Any]:
    """Every setting of the run, flat: "dataset", "tokenizer", "model.<field>", "train.<field>" (the
    specs' defaults filled in, so a field an older run did not store compares as its default)."""
    settings: dict[str, Any] = {"dataset": _name_of(store, "datasets", run.get("dataset_id")),
                                "tokenizer": _name_of(store, "tokenizers", run.get("tokenizer_id"))}
    for prefix, cls, key in (("model", ModelSpec, "model_spec"), ("train", TrainSpec, "train_spec")):
        raw = _dict(run.get(key))
        try:
            full = dataclasses.asdict(spec_from_dict(cls, raw))
        except (WorkbenchError, TypeError, ValueError):  # a spec this version cannot read: compare what is there
            full = dict(raw)
        for name, value in full.items():
            settings[f"{prefix}.{name}"] = value
    return settings


def settings_diff(store: ProjectStore, runs: list[dict[str, Any]]) -> list[tuple[str, tuple[Any, ...]]]:
    """[(setting, (value in each run, in order))] for the settings that differ; [] for fewer than 2 runs."""
    if len(runs) < 2:
        return []
    each = [run_settings(store, run) for run in runs]
    keys = sorted(set().union(*each))
    rows = []
    for key in keys:
        values = tuple(settings.get(key) for settings in each)
        if any(v != values[0] for v in values[1:]):
            rows.append((key, values))
    return rows


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name_of(store: ProjectStore, table: str, row_id: int | None) -> str | None:
    if row_id is None:
        return None
    rows = store.query(f"SELECT name FROM {table} WHERE id = ?", (row_id,))  # table: one of two literals above
    return rows[0]["name"] if rows else None
