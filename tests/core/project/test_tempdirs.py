"""Temporary folders name their owner; opening a project removes those of dead processes only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.core.project.checkpoints import remove_leftovers
from workbench.core.project.store import ProjectStore
from workbench.core.project.tempdirs import UNOWNED_STALE_S, host_tag, is_stale, temp_name


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_process() -> Iterator[subprocess.Popen]:
    """Another process that is alive while the test runs (not this one: its pid is trivially live)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def owned(parent: Path, pid: int, host: str | None = None, prefix: str = ".tmp-") -> Path:
    folder = parent / f"{prefix}{pid}-{host or host_tag()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    (folder / "part.bin").write_bytes(b"half written")
    return folder


def test_temp_names_carry_pid_and_host():
    name = temp_name()
    assert name.startswith(f".tmp-{os.getpid()}-{host_tag()}-")
    assert temp_name() != name


def test_open_removes_stale_temp_folders_and_keeps_live_ones(tmp_path, live_process):
    root = tmp_path / "p.wbproj"
    ProjectStore.create(root).close()
    stale, kept = [], []
    for kind in ("datasets", "tokenizers", "caches", "runs"):
        parent = root / kind
        stale.append(owned(parent, dead_pid()))
        kept.append(owned(parent, os.getpid()))  # this process is writing it
        kept.append(owned(parent, live_process.pid))  # another live process is writing it
        kept.append(owned(parent, dead_pid(), host="another_machine"))  # a shared drive: cannot tell
        (parent / "0123456789ab").mkdir()  # a committed artefact
        kept.append(parent / "0123456789ab")
        unowned_old = parent / ".tmp-abcdef012345"  # the name an earlier version gave
        unowned_old.mkdir()
        old = time.time() - UNOWNED_STALE_S - 60
        os.utime(unowned_old, (old, old))
        stale.append(unowned_old)
        (parent / ".tmp-fedcba543210").mkdir()  # unowned but recent: it may still be written
        kept.append(parent / ".tmp-fedcba543210")
    ProjectStore.open(root).close()
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []


def test_a_recycled_pid_does_not_keep_a_leftover(tmp_path, live_process):
    folder = owned(tmp_path, live_process.pid)
    assert not is_stale(folder)
    before = time.time() - 3600  # written an hour before the process now holding that pid started
    os.utime(folder, (before, before))
    assert is_stale(folder)


def test_new_artifact_folders_name_their_owner(tmp_path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        tmp, final = store.new_artifact_dir("caches")
        assert tmp.name.startswith(f".tmp-{os.getpid()}-{host_tag()}-") and tmp.is_dir()
        ProjectStore.open(store.root).close()  # a second opener while this one writes
        assert tmp.is_dir()


def test_checkpoint_leftovers_of_a_live_writer_are_kept(tmp_path, live_process):
    checkpoints = tmp_path / "checkpoints"
    stale = [owned(checkpoints, dead_pid()), owned(checkpoints, dead_pid(), prefix=".old-")]
    live = [owned(checkpoints, live_process.pid), owned(checkpoints, os.getpid(), prefix=".old-")]
    (checkpoints / "40").mkdir()
    remove_leftovers(checkpoints)
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in live) and (checkpoints / "40").is_dir()
