"""Fixtures for GUI tests: a real project with rows in it, and a main window that closes cleanly."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from workbench.core.project.store import ProjectStore, now_iso
from workbench.ui import theme


def fill_project(store: ProjectStore) -> dict[str, int]:
    """Rows as the core would write them (columns of workbench/core/project/schema.py)."""
    ids = {}
    ids["dataset"] = store.insert("datasets", {
        "name": "shakespeare", "dir": "datasets/abc", "format": "txt", "sources": ["/data/tinyshakespeare.txt"],
        "spec": {"name": "shakespeare"}, "stats": {"chars": 1115394}, "train_chars": 1003854, "val_chars": 111540,
        "documents": 1, "sha256": "0" * 64, "created": now_iso()})
    ids["poems"] = store.insert("datasets", {
        "name": "poems <b>bold</b>", "dir": "datasets/def", "format": "jsonl", "sources": ["poems.jsonl"],
        "spec": {}, "stats": {}, "train_chars": 52_000, "val_chars": 5_800, "documents": 240, "sha256": "1" * 64,
        "created": now_iso()})
    ids["tokenizer"] = store.insert("tokenizers", {
        "name": "chars", "kind": "char", "dataset_id": ids["dataset"], "vocab_size": 67, "dir": "tokenizers/t1",
        "spec": {"name": "chars", "kind": "char"}, "sha256": "2" * 64, "created": now_iso()})
    spec = {"arch": "gpt2", "n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64}
    ids["run"] = store.insert("runs", {
        "name": "tiny-gpt", "dataset_id": ids["dataset"], "tokenizer_id": ids["tokenizer"], "arch": "gpt2",
        "model_spec": spec, "train_spec": {"max_steps": 300}, "status": "finished", "step": 300,
        "best_val_loss": 1.9876, "dir": "runs/tiny-gpt", "created": now_iso()})
    ids["failed"] = store.insert("runs", {
        "name": "too-fast", "dataset_id": ids["dataset"], "tokenizer_id": ids["tokenizer"], "arch": "llama",
        "model_spec": {**spec, "arch": "llama"}, "train_spec": {}, "status": "failed", "step": 12,
        "dir": "runs/too-fast", "message": "the loss became nan at step 13; lower --lr", "created": now_iso()})
    with store.transaction() as conn:
        for step in range(1, 301):
            conn.execute("INSERT INTO metrics (run_id, step, name, value, wall) VALUES (?, ?, 'loss', ?, 0)",
                         (ids["run"], step, 4.2 * math.exp(-step / 60) + 1.8))
        for step in (100, 200, 300):
            conn.execute("INSERT INTO metrics (run_id, step, name, value, wall) VALUES (?, ?, 'val_loss', ?, 0)",
                         (ids["run"], step, 4.2 * math.exp(-step / 60) + 1.95))
    return ids


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.wbproj"
    with ProjectStore.create(path) as store:
        fill_project(store)
    return path


@pytest.fixture
def answer_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every question (`plain_text.ask_yes_no`, QMessageBox.question) is answered Yes (tests never block
    on a dialog); records the texts."""
    from workbench.ui.widgets import plain_text

    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    def exec_box(box: QMessageBox) -> QMessageBox.StandardButton:
        asked.append(box.text())
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(plain_text, "exec_box", exec_box)
    return asked


@pytest.fixture
def shown_errors(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Error dialogs are recorded instead of shown (they are modal)."""
    from workbench.ui import errors

    shown: list[tuple[str, str]] = []

    def fake_exec(box):
        shown.append((box.text(), box.detailedText()))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(errors, "_exec_box", fake_exec)
    return shown


@pytest.fixture
def window(qtbot, answer_questions, shown_errors):
    from workbench.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    assert not win.runner.is_busy()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $WORKBENCH_SHOTS to keep and look at them, else the test's own folder."""
    folder = Path(os.environ.get("WORKBENCH_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def restore_light():
    """A test that switches to dark puts the light scheme back for the tests after it."""
    yield
    theme.apply_color_scheme(QApplication.instance(), Qt.ColorScheme.Light)
