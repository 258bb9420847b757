"""Fixtures for the store's tests."""

from __future__ import annotations

import pytest

from workbench.core.project.store import ProjectStore, now_iso


@pytest.fixture
def project(tmp_path):
    """(store, run id): a new project with one queued run "r" (a test file may define its own `project`)."""
    store = ProjectStore.create(tmp_path / "p.wbproj")
    run_id = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {}, "train_spec": {}, "status": "queued",
                                   "dir": "runs/r", "created": now_iso()})
    yield store, run_id
    store.close()
