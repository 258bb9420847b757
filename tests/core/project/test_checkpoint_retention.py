"""The recorder keeps a checkpoint at every evaluation and thins them under the run's policy (issue 13)."""

from __future__ import annotations

import pytest

from workbench.core.base.events import CheckpointSaved, EvalFinished
from workbench.core.project import run_records
from workbench.core.project.retention import GB
from workbench.core.project.run_records import RunRecorder


def _policy(store, run_id, *, keep: str = "auto", budget_bytes: int | None = None) -> None:
    spec = {"keep_checkpoints": keep}
    if budget_bytes is not None:
        spec["checkpoint_budget_gb"] = budget_bytes / GB
    store.update("runs", run_id, train_spec=spec)


def _save(store, recorder, step: int, loss: float, *, best: bool = False, size: int = 100) -> None:
    folder = store.root / "runs" / "r" / "checkpoints" / str(step)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"w" * size)
    recorder.record(EvalFinished(step=step, val_loss=loss, val_ppl=7.0, best=best))
    recorder.record(CheckpointSaved(step=step, path=f"runs/r/checkpoints/{step}", kind="latest", sha256="ab"))


def _steps(store, run_id) -> list[int]:
    return [r["step"] for r in store.list_checkpoints(run_id)]


def _folders(store) -> list[int]:
    return sorted(int(p.name) for p in (store.root / "runs/r/checkpoints").iterdir())


def test_by_default_every_evaluation_keeps_its_checkpoint(project):
    store, run_id = project
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    for step, loss in ((10, 2.0), (20, 2.1), (30, 2.2), (40, 2.3)):
        _save(store, recorder, step, loss, best=step == 10)
    assert _steps(store, run_id) == [10, 20, 30, 40] == _folders(store)


def test_over_the_budget_older_ones_go_but_latest_best_and_pinned_stay(project):
    store, run_id = project
    _policy(store, run_id, budget_bytes=450)  # four checkpoints of 100 bytes fit under it
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    _save(store, recorder, 10, 1.0, best=True)
    _save(store, recorder, 20, 2.0)
    store.execute("UPDATE checkpoints SET pinned = 1 WHERE step = 20")
    for step in range(30, 110, 10):
        _save(store, recorder, step, 3.0)
    kept = _steps(store, run_id)
    assert kept == _folders(store) and len(kept) == 4
    assert {10, 20, 100} <= set(kept)  # best, pinned, latest
    rows = {r["step"]: r for r in store.list_checkpoints(run_id)}
    assert rows[10]["is_best"] and rows[20]["pinned"] and rows[100]["is_latest"]


def test_keep_all_ignores_the_budget(project):
    store, run_id = project
    _policy(store, run_id, keep="all", budget_bytes=0)
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    for step in (10, 20, 30):
        _save(store, recorder, step, 2.0)
    assert _steps(store, run_id) == [10, 20, 30]


def test_a_pin_that_lands_while_thinning_wins(project, monkeypatch):
    """Another process pins the very checkpoint the policy chose: the deleting transaction re-reads it."""
    store, run_id = project
    _policy(store, run_id, budget_bytes=0)
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    _save(store, recorder, 10, 1.0, best=True)
    _save(store, recorder, 20, 2.0)
    chosen = run_records.plan_removals

    def pin_meanwhile(held, policy):
        doomed = chosen(held, policy)
        store.execute("UPDATE checkpoints SET pinned = 1 WHERE step = 20")
        return doomed

    monkeypatch.setattr(run_records, "plan_removals", pin_meanwhile)
    _save(store, recorder, 30, 3.0)
    assert _steps(store, run_id) == [10, 20, 30] == _folders(store)


def test_rows_go_before_their_folders_and_a_left_folder_is_swept_at_the_next_start(project, monkeypatch):
    store, run_id = project
    _policy(store, run_id, budget_bytes=0)
    recorder = RunRecorder(store, run_id)
    recorder.start(0, resumed=False)
    _save(store, recorder, 10, 1.0, best=True)

    def killed(folder):  # the process dies after the row went, before its folder
        raise KeyboardInterrupt

    monkeypatch.setattr(run_records, "remove_checkpoint_dir", killed)
    _save(store, recorder, 20, 2.0)
    with pytest.raises(KeyboardInterrupt):
        _save(store, recorder, 30, 3.0)
    assert _steps(store, run_id) == [10, 30]  # no row points at a missing folder
    assert _folders(store) == [10, 20, 30]  # 20 is left without a row
    monkeypatch.undo()
    again = RunRecorder(store, run_id)
    again.start(30, resumed=True)
    assert _folders(store) == [10, 30] == _steps(store, run_id)
