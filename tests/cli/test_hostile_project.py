"""A shared project whose database points outside it: every command refuses with exit 2 and one
`error:` line, and the folder outside (the "victim") is neither deleted nor read."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import make_one_run_project, project_digest, run_cli

HOW = ["relative", "absolute", pytest.param("symlink", marks=pytest.mark.skipif(
    os.name == "nt", reason="symlinks need extra rights on Windows"))]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return make_one_run_project(tmp_path_factory.mktemp("hostile") / "base.wbproj")


def _hostile(tmp_path: Path, base: Path, how: str) -> tuple[Path, Path, str]:
    """A copy of `base`, a victim folder beside it, and a stored path that leads to the victim."""
    project = tmp_path / "p.wbproj"
    shutil.copytree(base, project, symlinks=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    if how == "relative":
        return project, victim, "../victim"
    if how == "absolute":
        return project, victim, str(victim)
    link = project / "runs" / "innocent"
    link.symlink_to(victim, target_is_directory=True)
    return project, victim, "runs/innocent"


def _tamper(project: Path, sql: str, params: tuple) -> None:
    con = sqlite3.connect(project / "project.db")
    with con:
        con.execute(sql, params)
    con.close()


def _assert_refused(capsys, project: Path, victim: Path, *args) -> None:
    before = project_digest(project)
    code, _, err = run_cli(capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "outside" in lines[0], err
    assert "Traceback" not in err
    assert (victim / "precious.txt").read_text() == "keep me"
    assert project_digest(project) == before


def _commands(project: Path, tmp_path: Path) -> list[list]:
    return [
        ["generate", project, "--run", "gpt2", "--prompt", "the", "--max-new-tokens", 3],
        ["export", project, "--run", "gpt2", "--out", tmp_path / "export"],
        ["evaluate", project, "--run", "gpt2"],
        ["attention", project, "--run", "gpt2", "--text", "the king", "--json"],
        ["train", project, "--resume", "gpt2", "--max-steps", 6],
    ]


@pytest.mark.parametrize("how", HOW)
def test_a_checkpoint_row_leading_outside_is_refused_by_every_command(tmp_path, capsys, base, how):
    project, victim, rel = _hostile(tmp_path, base, how)
    _tamper(project, "UPDATE checkpoints SET dir = ? WHERE is_latest = 1", (rel,))
    for args in _commands(project, tmp_path):
        _assert_refused(capsys, project, victim, *args)
    assert not (tmp_path / "export").exists()


@pytest.mark.parametrize("how", HOW)
def test_resume_never_deletes_a_later_checkpoint_outside(tmp_path, capsys, base, how):
    """The issue's case: resuming deletes checkpoints past the resumed step (rmtree of the row's dir)."""
    project, victim, rel = _hostile(tmp_path, base, how)
    _tamper(project, "INSERT INTO checkpoints (run_id, step, dir, sha256, val_loss, is_latest, is_best, created) "
                     "SELECT run_id, 99, ?, sha256, NULL, 0, 0, created FROM checkpoints WHERE is_latest = 1", (rel,))
    _assert_refused(capsys, project, victim, "train", project, "--resume", "gpt2", "--max-steps", 6)


@pytest.mark.parametrize("how", HOW)
def test_a_run_folder_leading_outside_is_refused(tmp_path, capsys, base, how):
    project, victim, rel = _hostile(tmp_path, base, how)
    _tamper(project, "UPDATE runs SET dir = ? WHERE name = 'gpt2'", (rel,))
    _assert_refused(capsys, project, victim, "train", project, "--resume", "gpt2", "--max-steps", 6)
