"""A read-only project (a mount, a shared drive) is browsed by the command line without a single write;
commands that must write, and projects whose database was lost, get one `error:` line (exit 2).

Tests run as root, where chmod does not stop writes: `opening.location_writable` is patched to stand
in for a read-only medium (the store then opens SQLite read-only); one test checks a really
unwritable folder in a subprocess, with root's permission override dropped by `setpriv`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import TINY_RUN, make_runs_project, project_digest, run_cli

from workbench.core.project import opening


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project with a char tokenizer and three finished 4-step runs: gpt2, bert, lstm."""
    return make_runs_project(tmp_path_factory.mktemp("read-only-cli") / "p.wbproj")


@pytest.fixture
def read_only(monkeypatch):
    monkeypatch.setattr(opening, "location_writable", lambda root: False)


def _copy(project: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.wbproj"
    shutil.copytree(project, copy)
    return copy


def test_a_read_only_project_is_browsed_without_writes(project, tmp_path, capsys, read_only):
    before = project_digest(project)
    code, out, err = run_cli(capsys, "runs", project, "--json")
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["runs"]] == ["gpt2", "bert", "lstm"]
    code, out, err = run_cli(capsys, "evaluate", project, "--run", "gpt2", "--json")
    assert code == 0 and json.loads(out)["source"] == "validation", err
    code, out, err = run_cli(capsys, "evaluate", project, "--run", "lstm", "--text", "the king speaks", "--json")
    assert code == 0 and json.loads(out)["tokens"] > 2, err
    code, out, err = run_cli(capsys, "generate", project, "--run", "gpt2", "--prompt", "the", "--max-new-tokens", 5,
                             "--seed", 1, "--json")
    assert code == 0 and json.loads(out)["samples"], err
    assert err.count("\n") == 1 and err.startswith("note: the project is read-only, so this generation is not saved")
    code, out, err = run_cli(capsys, "attention", project, "--run", "gpt2", "--text", "the king", "--json")
    assert code == 0 and json.loads(out)["tokens"], err
    out_dir = tmp_path / "exported"
    code, out, err = run_cli(capsys, "export", project, "--run", "gpt2", "--out", out_dir)
    assert code == 0 and (out_dir / "config.json").is_file(), err
    assert project_digest(project) == before


def test_evaluate_encodes_in_memory_when_the_cache_is_gone(project, tmp_path, capsys, read_only):
    copy = _copy(project, tmp_path)
    for cache in (copy / "caches").iterdir():
        shutil.rmtree(cache)
    before = project_digest(copy)
    code, out, err = run_cli(capsys, "evaluate", copy, "--run", "gpt2", "--json")
    assert code == 0, err
    assert json.loads(out)["source"] == "validation" and "not saved" in err
    assert project_digest(copy) == before
    assert list((copy / "caches").iterdir()) == []


@pytest.mark.parametrize("args", [
    ["train", "{p}", "--resume", "gpt2"],
    ["train", "{p}", "--dataset", "words", "--tokenizer", "chars", *map(str, TINY_RUN), "--name", "more"],
    ["import", "{p}", "{words}", "--name", "again"],
    ["tokenizer", "{p}", "--dataset", "words", "--kind", "char", "--name", "chars2"],
], ids=["resume", "train", "import", "tokenizer"])
def test_commands_that_write_are_refused_with_one_line(project, capsys, read_only, args):
    before = project_digest(project)
    words = project.parent / "words.txt"
    code, out, err = run_cli(capsys, *(a.format(p=project, words=words) for a in args))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: the project ") and "is read-only" in err
    assert "copy the project folder somewhere writable" in err
    assert project_digest(project) == before


@pytest.mark.parametrize("command", [["runs"], ["generate", "--run", "gpt2", "--prompt", "the"],
                                     ["train", "--resume", "gpt2"]], ids=["runs", "generate", "train"])
def test_an_empty_database_is_refused_by_every_command(project, tmp_path, capsys, command):
    copy = _copy(project, tmp_path)
    (copy / "project.db").write_bytes(b"")
    files = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    code, out, err = run_cli(capsys, command[0], copy, *command[1:])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: the project database ") and "restore project.db from a backup" in err
    assert (copy / "project.db").stat().st_size == 0
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == files


def test_a_schema_version_older_than_the_file_is_one_line(project, tmp_path, capsys):
    copy = _copy(project, tmp_path)
    con = sqlite3.connect(copy / "project.db")
    con.execute("PRAGMA user_version = 1")
    con.close()
    before = project_digest(copy)
    code, out, err = run_cli(capsys, "runs", copy)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: the project database ") and "restore it from a backup" in err
    assert project_digest(copy) == before


def _drop_root_override() -> list[str] | None:
    """A command prefix under which this process's files are protected by their mode bits."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def test_a_really_unwritable_folder(project, tmp_path):
    prefix = _drop_root_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod cannot make a folder unwritable")
    copy = _copy(project, tmp_path)
    before = project_digest(copy)
    for path in (copy, *copy.rglob("*")):
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        def workbench(*args):
            return subprocess.run([*prefix, sys.executable, "-m", "workbench", *map(str, args)],
                                  capture_output=True, text=True, timeout=300)

        runs = workbench("runs", copy, "--json")
        assert runs.returncode == 0, runs.stderr
        assert [r["name"] for r in json.loads(runs.stdout)["runs"]] == ["gpt2", "bert", "lstm"]
        train = workbench("train", copy, "--resume", "gpt2")
        assert train.returncode == 2 and train.stderr.count("\n") == 1 and "is read-only" in train.stderr
    finally:
        for path in (copy, *copy.rglob("*")):
            path.chmod(path.stat().st_mode | 0o200)
    assert project_digest(copy) == before
