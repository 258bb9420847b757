"""The window on a read-only project: browsable, every action that writes disabled with the reason;
a project whose database was lost is refused with a dialog, never turned into an empty project.

Tests run as root, where chmod does not stop writes: `opening.location_writable` is patched to stand
in for a read-only medium (the store then opens SQLite read-only).
"""

from __future__ import annotations

import time

from workbench.core.project import opening
from workbench.core.project.store import ProjectStore, now_iso


def _add_dead_run(root) -> None:
    with ProjectStore.open(root) as store:
        store.insert("runs", {"name": "dead", "arch": "gpt2", "model_spec": {}, "train_spec": {},
                              "status": "running", "step": 5, "heartbeat": time.time() - 3600,
                              "dir": "runs/dead", "created": now_iso()})


def test_a_read_only_project_opens_for_browsing(window, project, monkeypatch, shown_errors):
    _add_dead_run(project)
    monkeypatch.setattr(opening, "location_writable", lambda root: False)
    assert window.open_project(project)
    assert window.store.read_only and shown_errors == []
    assert window.windowTitle().startswith("p.wbproj (read-only)")
    assert "read-only" in window.status.currentMessage()

    panels = window.panels
    assert panels.training.runs.rowCount() == 3  # browsing works
    assert panels.dataset.datasets.rowCount() == 2
    disabled = {"import": panels.dataset.import_button, "tokenizer": panels.dataset.tokenizer_form.train_button,
                "start": panels.model.start_button,
                **{f"sample {key}": card.button for key, card in panels.dataset.gallery.cards.items()}}
    for what, button in disabled.items():
        assert not button.isEnabled(), what
        assert "this project is read-only" in button.toolTip(), what
        assert "Copy the project folder somewhere writable" in button.toolTip(), what
    action = window.actions.start_training
    assert not action.isEnabled() and "read-only" in action.toolTip()
    assert "read-only" not in window.actions.export_run.toolTip()  # exporting writes elsewhere: allowed

    assert window.stale_runs.check() == []  # marking the dead run interrupted would be a write
    assert window.store.get_run("dead")["status"] == "running"

    monkeypatch.setattr(opening, "location_writable", lambda root: True)
    assert window.open_project(project)  # a writable project gets its actions back
    assert not window.store.read_only and "read-only" not in window.windowTitle()
    assert panels.dataset.import_button.isEnabled() and window.actions.start_training.isEnabled()
    assert "read-only" not in panels.model.start_button.toolTip()


def test_a_project_whose_database_was_emptied_is_refused_with_a_dialog(window, project, shown_errors):
    (project / "runs" / "tiny-gpt").mkdir(parents=True)
    (project / "runs" / "tiny-gpt" / "model.safetensors").write_bytes(b"weights")
    (project / "project.db").write_bytes(b"")
    assert not window.open_project(project)
    assert window.store is None
    assert len(shown_errors) == 1 and "restore project.db from a backup" in shown_errors[0][0]
    assert (project / "project.db").stat().st_size == 0
