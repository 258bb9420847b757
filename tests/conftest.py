"""Shared test setup: headless Qt, offline Hugging Face, and a private home for settings and logs.

Runs before any test module imports Qt. Nothing here imports Qt or torch, so core and CLI tests
pay nothing for it. `WORKBENCH_HOME` (honoured by `workbench.ui.settings`) moves the GUI's
settings (INI file), logs and data out of the user's real folders; every test gets a fresh one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Overwritten, not defaulted: tests must never touch a developer's real settings or logs.
_SESSION_HOME = tempfile.mkdtemp(prefix="wb-test-home-")
os.environ["WORKBENCH_HOME"] = _SESSION_HOME
atexit.register(shutil.rmtree, _SESSION_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def workbench_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A fresh WORKBENCH_HOME (settings.ini, logs/, data/) for each test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def garbage_collected_in_the_gui_thread(request: pytest.FixtureRequest):
    """For Qt tests: no automatic garbage collection while the test runs, one collection in the main
    thread at its end (as the app does with pyqtgraph's GarbageCollector, see `workbench.app`).

    Automatic collection runs in whichever thread happens to allocate, so a job's thread could
    destroy a window or timer left in a reference cycle by an earlier test: Qt objects destroyed
    off their own thread can deadlock against the GUI thread, and a hang in CI pointed here.
    Everything a test makes while collection is off is in generation 0, so `collect(0)` is enough.
    """
    if "qtbot" not in request.fixturenames:
        yield
        return
    import gc

    gc.collect(1)  # what earlier tests left in the young generations goes here, not in a job's thread
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        gc.enable()
