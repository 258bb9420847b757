"""The run lock: one training process per run, across processes; dead trainers are seen at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from workbench.core.base.errors import OutsideProjectError, RunInUseError
from workbench.core.project import store as store_module
from workbench.core.project.run_lock import RunLock, lock_is_free, lock_path, read_owner, refuse_if_trained
from workbench.core.project.store import ProjectStore, now_iso

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP/SIGKILL are POSIX signals")


def _running_run(store: ProjectStore, name: str, heartbeat: float | None = None) -> int:
    return store.insert("runs", {"name": name, "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                 "status": "running", "step": 3, "dir": f"runs/{name}", "created": now_iso(),
                                 "heartbeat": time.time() if heartbeat is None else heartbeat})


def _holder(root, run_id: int) -> subprocess.Popen:
    """Another process that takes run `run_id`'s lock, says so on stdout and keeps it until killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from workbench.core.project.run_lock import RunLock
        held = RunLock({str(root)!r}, {run_id}, "r").acquire()  # kept: a lock collected is released
        print("held", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def project(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        yield store


def test_a_second_holder_is_refused_at_once_with_owner(project):
    run_id = _running_run(project, "r")
    with RunLock(project.root, run_id, "r"):
        owner = read_owner(project.root, run_id)
        assert owner is not None and owner["pid"] == os.getpid()
        started = time.monotonic()
        with pytest.raises(RunInUseError, match=rf"run 'r' is being trained by process {os.getpid()} on host "):
            RunLock(project.root, run_id, "r").acquire()
        with pytest.raises(RunInUseError, match="wait for it or stop it"):
            refuse_if_trained(project.root, run_id, "r")
        assert time.monotonic() - started < 1.0
        with lock_is_free(project.root, run_id) as free:
            assert free is False
    assert read_owner(project.root, run_id) is None  # released: no owner left behind
    with lock_is_free(project.root, run_id) as free:
        assert free is True


def test_a_live_run_is_never_marked_interrupted_whatever_its_heartbeat(project, monkeypatch):
    monkeypatch.setattr(store_module, "HEARTBEAT_STALE_S", 0.01)  # the old rule would call both dead
    alive = _running_run(project, "alive", heartbeat=time.time() - 3600)
    dead = _running_run(project, "dead", heartbeat=time.time())  # a fresh heartbeat, but nobody holds it
    with RunLock(project.root, alive, "alive"):
        assert project.mark_interrupted_runs() == [dead]
        assert project.get_run("alive")["status"] == "running"
        assert project.get_run("dead")["status"] == "interrupted"


@posix_only
def test_a_killed_holder_frees_the_run_at_once(project):
    run_id = _running_run(project, "r")
    proc = _holder(project.root, run_id)
    try:
        with pytest.raises(RunInUseError, match=rf"process {proc.pid} on host"):
            RunLock(project.root, run_id, "r").acquire()
        assert project.mark_interrupted_runs() == []
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert read_owner(project.root, run_id)["pid"] == proc.pid  # its owner file stays behind ...
    assert project.mark_interrupted_runs() == [run_id]  # ... but the OS let go of the lock at once
    assert read_owner(project.root, run_id) is None
    RunLock(project.root, run_id, "r").acquire().release()


@posix_only
def test_a_suspended_holder_keeps_its_run(project, monkeypatch):
    monkeypatch.setattr(store_module, "HEARTBEAT_STALE_S", 0.2)
    run_id = _running_run(project, "r", heartbeat=time.time() - 3600)  # asleep for an hour
    proc = _holder(project.root, run_id)
    try:
        os.kill(proc.pid, signal.SIGSTOP)  # a laptop asleep: no heartbeat, the process still alive
        time.sleep(0.5)
        assert project.mark_interrupted_runs() == []
        assert project.get_run(run_id)["status"] == "running"
        with pytest.raises(RunInUseError, match=rf"process {proc.pid}"):
            refuse_if_trained(project.root, run_id, "r")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_a_stale_owner_file_does_not_refuse_a_new_trainer(project):
    run_id = _running_run(project, "r")
    lock_path(project.root, run_id).parent.mkdir(exist_ok=True)
    lock_path(project.root, run_id).with_suffix(".owner").write_text('{"pid": 999999999, "host": "elsewhere"}')
    with RunLock(project.root, run_id, "r") as lock:  # the lock is free: the file is a dead trainer's
        assert lock.held and read_owner(project.root, run_id)["pid"] == os.getpid()


def test_a_brief_check_is_waited_out_not_reported(project):
    """A check holds the lock for milliseconds without an owner: a trainer starting then waits."""
    run_id = _running_run(project, "r")
    with lock_is_free(project.root, run_id) as free:
        assert free is True
        with pytest.raises(RunInUseError, match="by another process"):
            RunLock(project.root, run_id, "r").acquire(wait_s=0.2)
    RunLock(project.root, run_id, "r").acquire(wait_s=0.2).release()


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_locks_link_out_of_a_shared_project_is_not_followed(project, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (project.root / "locks").symlink_to(victim, target_is_directory=True)
    run_id = _running_run(project, "r", heartbeat=time.time())
    with pytest.raises(OutsideProjectError, match="the folder of run locks"):
        RunLock(project.root, run_id, "r").acquire()
    assert project.mark_interrupted_runs() == []  # cannot tell by the lock: the fresh heartbeat decides
    assert list(victim.iterdir()) == []
