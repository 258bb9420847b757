"""One training process per run, across real processes, and what a kill -9 costs in metrics.

Trainers run as subprocesses (`python -m workbench train ... --json`) holding real OS locks; the
checks (`runs`, a second `train --resume`) run in this process, as another user command would.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_helpers import make_words_project, project_digest, run_cli

from workbench.cli import main
from workbench.core.ops import run_setup
from workbench.core.project.store import ProjectStore, now_iso

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

TINY = ["--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--block-size", "16", "--batch-size", "4",
        "--device", "cpu", "--lr", "3e-3", "--warmup", "2", "--threads", "1"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def project(tmp_path) -> Path:
    return make_words_project(tmp_path / "p.wbproj", lines=400)

def _trainer(project: Path, *args: str, code: str | None = None, quiet: bool = False) -> subprocess.Popen:
    """A `train --json` process; `quiet`: its output is dropped, so an unread pipe never blocks it."""
    command = ["-m", "workbench"] if code is None else ["-c", code]
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen([sys.executable, *command, "train", str(project), *args, "--json"],
                            stdout=out, stderr=out, text=True, env=ENV)


def _read_until(proc: subprocess.Popen, event: str) -> dict:
    for line in proc.stdout:
        if json.loads(line)["event"] == event:
            return json.loads(line)
    raise AssertionError(f"no {event!r} line before the trainer ended: {proc.stderr.read()[-800:]}")


def _end(proc: subprocess.Popen) -> None:
    with_signal = signal.SIGCONT, signal.SIGKILL
    for sig in with_signal:
        if proc.poll() is None:
            os.kill(proc.pid, sig)
    proc.communicate(timeout=60)


def _runs(capsys, project: Path) -> dict[str, dict]:
    code, out, err = run_cli(capsys, "runs", project, "--json")
    assert code == 0, err
    return {r["name"]: r for r in json.loads(out)["runs"]}


def _checkpointed_run(project: Path, name: str) -> None:
    assert main(["train", str(project), "--dataset", "words", *TINY, "--max-steps", "4", "--eval-interval", "2",
                 "--name", name, "--json"]) == 0


def test_two_resumes_of_one_run_train_it_once(project):
    _checkpointed_run(project, "twice")
    procs = [_trainer(project, "--resume", "twice", "--max-steps", "100000", "--eval-interval", "5")
             for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        (loser,) = [p for p in procs if p.poll() is not None]
        (winner,) = [p for p in procs if p is not loser]
        out, err = loser.communicate(timeout=10)
        assert loser.returncode == 2 and out == ""
        assert err.strip().splitlines() == [
            f"error: run 'twice' is being trained by process {winner.pid} on host {os.uname().nodename}; "
            "wait for it or stop it"]
        _read_until(winner, "checkpoint")  # the winner goes on training alone
        winner.send_signal(signal.SIGINT)
        winner.communicate(timeout=60)
        assert winner.returncode == 130
    finally:
        for proc in procs:
            _end(proc)
    con = sqlite3.connect(project / "project.db")
    losses = con.execute("SELECT step, COUNT(*) FROM metrics WHERE name = 'loss' GROUP BY step").fetchall()
    con.close()
    assert losses and all(count == 1 for _, count in losses)  # one writer: one loss row per step


def test_a_suspended_trainer_keeps_its_run(project, capsys, monkeypatch):
    proc = _trainer(project, "--dataset", "words", *TINY, "--max-steps", "100000", "--eval-interval", "3",
                    "--name", "asleep")
    try:
        saved = _read_until(proc, "checkpoint")["step"]
        os.kill(proc.pid, signal.SIGSTOP)  # a laptop asleep: no heartbeat, but the process is alive
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # ... and silent for an hour
        assert _runs(capsys, project)["asleep"]["status"] == "running"
        before = project_digest(project)
        started = time.monotonic()
        code, out, err = run_cli(capsys, "train", project, "--resume", "asleep", "--max-steps", saved + 2)
        assert code == 2 and time.monotonic() - started < 10
        assert err.strip().splitlines() == [
            f"error: run 'asleep' is being trained by process {proc.pid} on host {os.uname().nodename}; "
            "wait for it or stop it"]
        assert project_digest(project) == before
        assert _runs(capsys, project)["asleep"]["status"] == "running"
    finally:
        _end(proc)


def test_a_killed_trainer_is_interrupted_at_once_and_resumes(project, capsys):
    proc = _trainer(project, "--dataset", "words", *TINY, "--max-steps", "100000", "--eval-interval", "3",
                    "--name", "killed")
    try:
        saved = _read_until(proc, "checkpoint")["step"]
    finally:
        _end(proc)
    run = _runs(capsys, project)["killed"]  # at once: no waiting for a heartbeat to go stale
    assert run["status"] == "interrupted" and "resume" in run["message"]
    code, out, err = run_cli(capsys, "train", project, "--resume", "killed", "--max-steps", saved + 2, "--json")
    assert code == 0, err
    assert _runs(capsys, project)["killed"]["status"] == "finished"


def test_the_same_name_twice_is_a_clear_message(project, capsys, monkeypatch):
    _checkpointed_run(project, "dup")
    before = project_digest(project)
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", *TINY, "--max-steps", 2, "--name", "dup")
    assert code == 2 and project_digest(project) == before
    assert err.strip().splitlines() == [
        "error: a run named 'dup' already exists in this project: choose another --name or continue it with "
        "--resume dup"]

    def take(root: Path, name: str) -> None:  # another process takes the name between the check and the insert
        with ProjectStore.open(root) as other:
            other.insert("runs", {"name": name, "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                  "status": "queued", "dir": f"runs/{name}", "created": now_iso()})

    monkeypatch.setattr(run_setup, "_check_enough_tokens", lambda store, *args: take(store.root, "raced"))
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", *TINY, "--max-steps", 2,
                             "--name", "raced")
    assert code == 2 and "UNIQUE" not in err
    assert err.strip().splitlines() == [
        "error: a run named 'raced' already exists in this project: choose another --name or continue it with "
        "--resume raced"]
    assert len(list((project / "runs").iterdir())) == 1  # only dup's folder: the refused run left none

    free_name = run_setup._free_name
    taken: list[str] = []

    def chosen_then_taken(store, table, stem):
        name = free_name(store, table, stem)
        if table == "runs" and not taken:
            taken.append(name)
            take(store.root, name)
        return name

    monkeypatch.undo()
    monkeypatch.setattr(run_setup, "_free_name", chosen_then_taken)
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", *TINY, "--max-steps", 2, "--json")
    assert code == 0, err  # a name chosen here: the next free one
    assert taken == ["gpt2-words"] and json.loads(out.splitlines()[-1])["name"] == "gpt2-words-2"


def _newest_wall(project: Path) -> float | None:
    con = sqlite3.connect(f"file:{project / 'project.db'}?mode=ro", uri=True)
    try:
        return con.execute("SELECT MAX(wall) FROM metrics").fetchone()[0]
    finally:
        con.close()


def _next_flush(project: Path, after: float | None, proc: subprocess.Popen) -> float:
    """The newest metric's wall time once a flush has stored one newer than `after` (seen from outside)."""
    deadline = time.monotonic() + 120
    while (newest := _newest_wall(project)) is None or (after is not None and newest <= after):
        assert proc.poll() is None and time.monotonic() < deadline, "the trainer stored no metrics"
        time.sleep(0.02)
    return newest


def _kill_and_measure(proc: subprocess.Popen, project: Path, wait_s: float) -> float:
    time.sleep(wait_s)
    killed_at = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return killed_at - _newest_wall(project)


def test_a_kill_loses_at_most_two_seconds_of_metrics(project):
    proc = _trainer(project, "--dataset", "words", *TINY, "--max-steps", "100000", "--eval-interval", "100000",
                    quiet=True)
    try:
        _next_flush(project, None, proc)  # training
        assert _kill_and_measure(proc, project, random.uniform(0.5, 3.0)) <= 2.0
    finally:
        _end(proc)


# A step of a bigger model on a CPU: 1.5 s. Flushing only every 2 s left the metrics of every other step
# unsaved for two steps, 3 s.
SLOW_STEPS = textwrap.dedent("""
    import sys, time
    from workbench.cli import main
    from workbench.core.training import loop
    fast = loop._Loop._optimizer_step
    def slow(self):
        time.sleep(1.5)
        return fast(self)
    loop._Loop._optimizer_step = slow
    sys.exit(main(sys.argv[1:]))
""")


def test_a_kill_between_slow_steps_loses_at_most_two_seconds_of_metrics(project):
    proc = _trainer(project, "--dataset", "words", *TINY, "--max-steps", "100000", "--eval-interval", "100000",
                    code=SLOW_STEPS, quiet=True)
    try:
        _next_flush(project, _next_flush(project, None, proc), proc)
        flushed = time.time()  # just after a flush, seen from outside
        lag = _kill_and_measure(proc, project, flushed + random.uniform(2.2, 2.8) - time.time())
        assert lag <= 2.0
    finally:
        _end(proc)
