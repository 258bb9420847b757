"""A run whose training process died while the window was open shows as interrupted, without a reopen."""

from __future__ import annotations

import time

from workbench.core.project.run_lock import RunLock
from workbench.core.project.store import HEARTBEAT_STALE_S, ProjectStore, now_iso


def add_running_run(root, name: str, heartbeat: float) -> int:
    with ProjectStore.open(root) as store:  # another process's view of the project
        return store.insert("runs", {"name": name, "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                     "status": "running", "step": 40, "heartbeat": heartbeat,
                                     "dir": f"runs/{name}", "created": now_iso()})


def statuses(window) -> dict[str, str]:
    runs = window.panels.training.runs
    return {runs.cell_text(r, 0): runs.cell_text(r, 1) for r in range(runs.rowCount())}


def test_a_dead_process_run_becomes_interrupted_while_open(window, project):
    assert window.open_project(project)
    alive = RunLock(project, add_running_run(project, "alive", time.time()), "alive").acquire()  # its trainer's lock
    add_running_run(project, "killed", time.time() - HEARTBEAT_STALE_S - 5)
    window.jobs.refresh_panels()
    assert statuses(window)["killed"] == "running"

    assert window.stale_runs.check() == ["killed"]
    assert statuses(window)["killed"] == "interrupted" and statuses(window)["alive"] == "running"
    assert "'killed' stopped unexpectedly" in window.status.currentMessage()
    assert window.store.get_run("killed")["message"].startswith("the process running this run stopped")
    assert window.stale_runs.check() == []  # marked once
    assert window.stale_runs.timer.isActive()
    alive.release()


def test_no_check_while_this_window_trains_or_without_a_project(window, project, monkeypatch):
    assert window.stale_runs.check() == []  # no project open
    assert window.open_project(project)
    add_running_run(project, "slow-step", time.time() - HEARTBEAT_STALE_S - 5)
    monkeypatch.setattr(window.runner, "is_busy", lambda lane=None: lane == "train")
    assert window.stale_runs.check() == []
    assert window.store.get_run("slow-step")["status"] == "running"


def test_while_this_window_trains_other_dead_runs_are_still_marked(window, project, monkeypatch):
    assert window.open_project(project)
    with ProjectStore.open(project) as store:  # one open: opening marks the runs whose lock is free
        mine, _killed = (store.insert("runs", {"name": name, "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                               "status": "running", "step": 40, "heartbeat": time.time(),
                                               "dir": f"runs/{name}", "created": now_iso()})
                         for name in ("mine", "killed-elsewhere"))  # "mine": its lock is free, yet it lives here
    monkeypatch.setattr(window.runner, "is_busy", lambda lane=None: lane == "train")
    monkeypatch.setattr(window.panels.training, "live_run", lambda: mine)
    assert window.stale_runs.check() == ["killed-elsewhere"]  # at once, not after the training ends
    assert window.store.get_run("mine")["status"] == "running"
    assert window.stale_runs.timer.interval() <= 2_000
