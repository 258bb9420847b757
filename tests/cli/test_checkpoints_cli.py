"""Checkpoint history on the command line (issue 13): `workbench checkpoints`, any listed step for
every `--checkpoint`, the disk a run takes in `workbench runs`, `runs --run RUN --csv FILE`, and the
retention flags of `workbench train`."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import TINY_RUN, make_words_project, project_digest, run_cli

from workbench.cli import main
from workbench.core.project.checkpoint_history import run_disk_usage
from workbench.core.project.run_lock import RunLock
from workbench.core.project.store import ProjectStore

SIX_STEPS = [*map(str, TINY_RUN[:-4]), "--max-steps", "6", "--eval-interval", "2"]  # evaluations at 2, 4 and 6


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A project with one finished 6-step gpt2 run "g" evaluated at steps 2, 4 and 6."""
    root = make_words_project(tmp_path_factory.mktemp("checkpoints-cli") / "p.wbproj", lines=300)
    assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", "gpt2", *SIX_STEPS,
                 "--name", "g", "--json"]) == 0
    return root


@pytest.fixture
def project(trained, tmp_path) -> Path:
    """A copy of `trained` for a test that changes it."""
    return Path(shutil.copytree(trained, tmp_path / "copy.wbproj"))


def _listing(capsys, project: Path, *extra) -> dict:
    code, out, err = run_cli(capsys, "checkpoints", project, "--run", "g", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def _middle_step(capsys, project: Path) -> int:
    """A listed step that is neither the latest nor the best."""
    steps = [c["step"] for c in _listing(capsys, project)["checkpoints"] if not c["is_latest"] and not c["is_best"]]
    assert steps
    return steps[-1]


def test_every_evaluation_keeps_a_checkpoint_and_lists_it(trained, capsys):
    doc = _listing(capsys, trained)
    rows = doc["checkpoints"]
    assert [c["step"] for c in rows] == [2, 4, 6]
    assert all(c["size_bytes"] > 0 and c["problem"] == "" and c["val_loss"] > 0 for c in rows)
    assert rows[-1]["is_latest"] and sum(c["is_best"] for c in rows) == 1 and not any(c["pinned"] for c in rows)
    assert doc["total_bytes"] == sum(c["size_bytes"] for c in rows) and doc["policy"] == {"keep": "auto", "budget_gb": 2.0}
    code, out, _ = run_cli(capsys, "checkpoints", trained, "--run", "g")
    assert code == 0 and "3 checkpoints" in out and "latest" in out and "val loss" in out


@pytest.mark.parametrize("command", [
    ["generate", "--prompt", "the", "--max-new-tokens", "3", "--seed", "1"],
    ["attention", "--text", "the king"],
    ["evaluate"],
])
def test_every_command_taking_a_checkpoint_opens_any_listed_step(trained, capsys, command):
    step = _middle_step(capsys, trained)
    code, out, err = run_cli(capsys, command[0], trained, "--run", "g", "--checkpoint", step, *command[1:], "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc.get("checkpoint", doc.get("step")) == step


def test_export_opens_any_listed_step(trained, capsys, tmp_path):
    step = _middle_step(capsys, trained)
    code, out, err = run_cli(capsys, "export", trained, "--run", "g", "--checkpoint", step, "--out", tmp_path / "x",
                             "--json")
    assert code == 0, err
    assert json.loads(out)["step"] == step


def test_pin_unpin_and_delete(project, capsys):
    step = _middle_step(capsys, project)
    doc = _listing(capsys, project, "--pin", step)
    assert doc["action"] == "pin" and [c["step"] for c in doc["checkpoints"] if c["pinned"]] == [step]
    before = project_digest(project)
    code, _, err = run_cli(capsys, "checkpoints", project, "--run", "g", "--delete", step)
    assert code == 2 and "pinned; unpin it first" in err and len(err.strip().splitlines()) == 1
    assert project_digest(project) == before
    _listing(capsys, project, "--unpin", step)
    doc = _listing(capsys, project, "--delete", step)
    assert doc["freed_bytes"] > 0 and step not in [c["step"] for c in doc["checkpoints"]]
    with ProjectStore.open(project) as store:
        assert not (project / store.get_run("g")["dir"] / "checkpoints" / str(step)).exists()
    code, _, err = run_cli(capsys, "generate", project, "--run", "g", "--checkpoint", step, "--prompt", "t")
    assert code == 2 and f"no checkpoint at step {step}" in err


@pytest.mark.parametrize(("flag", "step", "message"), [
    ("--delete", 6, "its latest"),
    ("--delete", 3, "no checkpoint at step 3 (it has: 2, 4, 6)"),
    ("--pin", 5, "no checkpoint at step 5"),
    ("--delete", -1, "must be a whole number"),
])
def test_bad_input_exits_2_and_changes_nothing(trained, capsys, flag, step, message):
    before = project_digest(trained)
    code, out, err = run_cli(capsys, "checkpoints", trained, "--run", "g", flag, step)
    assert code == 2 and err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
    assert out == "" and project_digest(trained) == before


def test_deleting_while_the_run_trains_is_refused(project, capsys):
    step = _middle_step(capsys, project)
    with ProjectStore.open(project) as store:
        run = store.get_run("g")
    with RunLock(project, run["id"], "g"):  # what the trainer holds for its whole session
        code, _, err = run_cli(capsys, "checkpoints", project, "--run", "g", "--delete", step)
    assert code == 2 and "being trained" in err and len(err.strip().splitlines()) == 1
    assert step in [c["step"] for c in _listing(capsys, project)["checkpoints"]]


def test_damaged_checkpoints_are_listed_with_the_reason_and_the_run_still_exports_its_curves(project, capsys, tmp_path):
    with ProjectStore.open(project) as store:
        folder = project / store.get_run("g")["dir"] / "checkpoints"
    (folder / "2" / "model.safetensors").unlink()
    with open(folder / "4" / "model.safetensors", "r+b") as fh:
        fh.seek(-1, os.SEEK_END)
        fh.write(b"\x00" if fh.read(1) != b"\x00" else b"\x01")
    problems = {c["step"]: c["problem"] for c in _listing(capsys, project)["checkpoints"]}
    assert "model.safetensors is missing" in problems[2] and "sha256" in problems[4] and problems[6] == ""
    code, out, _ = run_cli(capsys, "checkpoints", project, "--run", "g")
    assert code == 0 and out.count("UNUSABLE") == 2
    code, _, err = run_cli(capsys, "runs", project, "--run", "g", "--csv", tmp_path / "m.csv")
    assert code == 0, err
    assert (tmp_path / "m.csv").is_file()


def test_runs_shows_the_disk_each_run_takes(trained, capsys):
    code, out, err = run_cli(capsys, "runs", trained, "--json")
    assert code == 0, err
    (run,) = json.loads(out)["runs"]
    with ProjectStore.open(trained) as store:
        assert run["size_bytes"] == run_disk_usage(store, run["id"]) > 0
    code, out, _ = run_cli(capsys, "runs", trained)
    assert code == 0 and " size " in out and ("KB" in out or "MB" in out)


def test_csv_holds_every_recorded_series(trained, capsys, tmp_path):
    target = tmp_path / "metrics.csv"
    code, out, err = run_cli(capsys, "runs", trained, "--run", "g", "--csv", target, "--json")
    assert code == 0, err
    doc = json.loads(out)
    with open(target, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    header, rows = table[0], table[1:]
    assert header == doc["columns"] and header[0] == "step" and doc["rows"] == len(rows) == 6
    with ProjectStore.open(trained) as store:
        run_id = store.get_run("g")["id"]
        names = {m["name"] for m in store.metrics(run_id)}
        assert set(header[1:]) == names and {"loss", "val_loss", "lr", "grad_norm", "tokens_per_s"} <= names
        loss = {m["step"]: m["value"] for m in store.metrics(run_id, "loss")}
        val = {m["step"]: m["value"] for m in store.metrics(run_id, "val_loss")}
    for row in rows:
        step = int(row[0])
        assert float(row[header.index("loss")]) == loss[step]  # full precision
        assert row[header.index("val_loss")] == (repr(val[step]) if step in val else "")


@pytest.mark.parametrize("where", ["missing folder", "a folder", "no --run"])
def test_a_bad_csv_path_gets_one_error_line(trained, capsys, tmp_path, where):
    args = {"missing folder": ["--run", "g", "--csv", tmp_path / "nowhere" / "m.csv"],
            "a folder": ["--run", "g", "--csv", tmp_path],
            "no --run": ["--csv", tmp_path / "m.csv"]}[where]
    before = project_digest(trained)
    code, out, err = run_cli(capsys, "runs", trained, *args)
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1 and out == ""
    assert project_digest(trained) == before and not (tmp_path / "m.csv").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a folder this user cannot write")
def test_an_unwritable_csv_folder_gets_one_error_line(trained, capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, out, err = run_cli(capsys, "runs", trained, "--run", "g", "--csv", locked / "m.csv")
    finally:
        locked.chmod(0o755)
    assert code == 2 and "cannot write" in err and "permission denied" in err and len(err.strip().splitlines()) == 1
    assert list(locked.iterdir()) == []


def test_a_refused_csv_write_gets_one_error_line(trained, capsys, tmp_path, monkeypatch):
    """The same path as an unwritable folder, for a user (root) whom no folder refuses."""
    from workbench.core.project import metrics_export

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(metrics_export.tempfile, "mkstemp", refused)
    code, out, err = run_cli(capsys, "runs", trained, "--run", "g", "--csv", tmp_path / "m.csv")
    assert code == 2 and "cannot write" in err and "permission denied" in err and len(err.strip().splitlines()) == 1
    assert out == "" and list(tmp_path.iterdir()) == []


def test_train_flags_set_the_retention_policy(trained, capsys, tmp_path):
    root = Path(shutil.copytree(trained, tmp_path / "flags.wbproj"))
    code, _, err = run_cli(capsys, "train", root, "--dataset", "words", "--tokenizer", "chars", *SIX_STEPS,
                           "--name", "lean", "--checkpoint-budget-gb", "0", "--json")
    assert code == 0, err
    with ProjectStore.open(root) as store:
        run = store.get_run("lean")
        assert run["train_spec"]["checkpoint_budget_gb"] == 0 and run["train_spec"]["keep_checkpoints"] == "auto"
        rows = store.list_checkpoints(run["id"])
        assert all(r["is_latest"] or r["is_best"] for r in rows) and len(rows) <= 2  # only latest and best
        folders = {p.name for p in (root / run["dir"] / "checkpoints").iterdir()}
        assert folders == {str(r["step"]) for r in rows}
    code, _, err = run_cli(capsys, "train", root, "--dataset", "words", *SIX_STEPS, "--name", "x",
                           "--checkpoint-budget-gb", "-1")
    assert code == 2 and "--checkpoint-budget-gb: must be at least 0" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "train", root, "--dataset", "words", *SIX_STEPS, "--name", "x",
                           "--keep-checkpoints", "some")
    assert code == 2 and "--keep-checkpoints" in err
