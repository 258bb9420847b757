"""The generation history store (issue 14 point 8): rows per sample, newest first, JSONL export."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.generations import export_jsonl, list_generations, save_generations
from workbench.core.project.store import ProjectStore


def test_saved_generations_list_newest_first_with_settings_decoded(tmp_path: Path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        save_generations(store, None, 4, "Once", {"mode": "generate", "temperature": 0.8}, ["a", "b"])
        save_generations(store, None, 6, "Then", {"mode": "generate", "stop": ["\n"]}, ["c"])
    with ProjectStore.open(tmp_path / "p.wbproj") as store:  # survives reopening
        rows = list_generations(store)
    assert [(r["prompt"], r["text"], r["checkpoint_step"]) for r in rows] == [
        ("Then", "c", 6), ("Once", "b", 4), ("Once", "a", 4)]
    assert rows[0]["settings"] == {"mode": "generate", "stop": ["\n"]} and rows[1]["settings"]["temperature"] == 0.8


def test_export_writes_one_json_object_per_line(tmp_path: Path):
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        save_generations(store, None, 2, "Q: ünï", {"mode": "generate"}, ["one\nline"])
        rows = list_generations(store)
    out = tmp_path / "history.jsonl"
    assert export_jsonl(rows, out) == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["text"] == "one\nline" and json.loads(lines[0])["prompt"] == "Q: ünï"


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs a folder the user cannot write")
def test_export_into_a_folder_that_cannot_be_written_says_so(tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(WorkbenchError, match="cannot write .*choose a folder you can write to"):
            export_jsonl([{"id": 1, "prompt": "a", "text": "b"}], locked / "h.jsonl")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_export_under_a_path_that_is_not_a_folder_says_so(tmp_path: Path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(WorkbenchError, match="cannot write .*choose a folder you can write to"):
        export_jsonl([{"id": 1, "prompt": "a", "text": "b"}], tmp_path / "a-file" / "h.jsonl")
