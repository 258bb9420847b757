"""The window lock: one window writes a project at a time; a killed window never blocks it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from workbench.core.project import window_lock
from workbench.core.project.store import ProjectStore
from workbench.core.project.window_lock import (
    ProjectOpenElsewhereError,
    WindowLock,
    holder_words,
    read_window_owner,
    take_window_lock,
    window_lock_path,
)


@pytest.fixture
def root(tmp_path):
    ProjectStore.create(tmp_path / "p.wbproj").close()
    return tmp_path / "p.wbproj"


def _holder(root) -> subprocess.Popen:
    """Another process that takes the project's window lock, says so and keeps it until killed."""
    code = textwrap.dedent(f"""
        import time
        from workbench.core.project.window_lock import take_window_lock
        held = take_window_lock({str(root)!r})  # kept: a lock collected is released
        print("held" if held is not None else "none", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_in_the_same_process_is_refused_with_the_owner(root):
    first = take_window_lock(root)
    assert first is not None and first.held
    owner = read_window_owner(root)
    assert owner is not None and owner["pid"] == os.getpid() and owner["since"]
    with pytest.raises(ProjectOpenElsewhereError, match=rf"open in another LM Workbench window \(process {os.getpid()} "
                                                        r"on host ") as caught:
        take_window_lock(root)  # two FileLocks on one file conflict even inside one process (flock)
    assert caught.value.owner == owner

    first.release()
    assert not first.held and read_window_owner(root) is None
    second = take_window_lock(root)
    assert second is not None and second.held
    second.release()


def test_release_twice_and_acquire_twice_are_harmless(root):
    lock = WindowLock(root).acquire().acquire()
    lock.release()
    lock.release()
    assert take_window_lock(root) is not None


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")
def test_a_killed_holder_frees_the_project_at_once(root):
    proc = _holder(root)
    try:
        with pytest.raises(ProjectOpenElsewhereError, match=rf"process {proc.pid} on host") as caught:
            take_window_lock(root)
        assert caught.value.owner["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert read_window_owner(root)["pid"] == proc.pid  # a killed window leaves its owner file behind
    lock = take_window_lock(root)  # ... but not its lock
    assert lock is not None and read_window_owner(root)["pid"] == os.getpid()
    lock.release()


def test_the_lock_lives_inside_the_project_and_a_link_out_of_it_means_no_lock(root, tmp_path):
    assert window_lock_path(root) == (root / "locks" / "window.lock").resolve()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, root / "locks")
    assert take_window_lock(root) is None
    assert list(outside.iterdir()) == []  # nothing made or removed outside the project


def test_a_folder_that_is_not_a_project_gains_no_lock(tmp_path):
    assert take_window_lock(tmp_path) is None
    assert not (tmp_path / "locks").exists()


def test_an_unwritable_folder_has_no_lock(root, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(window_lock.Path, "mkdir", refuse)  # root may write anywhere: stand in for a read-only mount
    assert take_window_lock(root) is None


def test_holder_words_show_only_what_a_file_may_safely_say():
    assert holder_words(None) == ""
    assert holder_words({"pid": "12; rm -rf"}) == ""
    assert holder_words({"pid": True, "host": "h"}) == ""
    assert holder_words({"pid": 12, "host": "box\n\x1b[2Jevil"}) == "process 12 on host box[2Jevil"
