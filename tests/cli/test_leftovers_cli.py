"""Kills and damaged token caches: temporary folders of dead processes go, a tokenizer whose encoding
was killed is finished, and a token cache that no longer matches is rebuilt (or refused), never an
IndexError."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import TINY_RUN, make_words_project, project_digest, run_cli

from workbench.cli import main
from workbench.core.project.store import ProjectStore
from workbench.core.project.tempdirs import host_tag


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A project with the dataset `words`, the char tokenizer `chars` and one 4-step gpt2 run `gpt2`."""
    root = make_words_project(tmp_path_factory.mktemp("leftovers") / "p.wbproj", lines=400)
    assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", *map(str, TINY_RUN),
                 "--name", "gpt2", "--json"]) == 0
    return root


@pytest.fixture
def project(trained, tmp_path) -> Path:
    """A private copy of the trained project (each test damages its own)."""
    copy = tmp_path / "p.wbproj"
    shutil.copytree(trained, copy)
    return copy


def cache_dir(root: Path) -> Path:
    with ProjectStore.open(root) as store:
        return store.path(store.query("SELECT dir FROM token_caches")[0]["dir"])


def train_again(capsys, root: Path, name: str) -> tuple[int, str, str]:
    return run_cli(capsys, "train", root, "--dataset", "words", "--tokenizer", "chars", *TINY_RUN, "--name", name,
                   "--json")


# ---- damaged token caches (issue 11, point 9) ------------------------------------------------------

def overwrite_with_big_ids(path: Path) -> None:
    """Ids far outside the 40-odd characters, written in place: every size stays the same."""
    ids = np.memmap(path, dtype="<u2", mode="r+")
    ids[: len(ids) // 2] = 60000
    ids.flush()
    del ids


def truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 3 * 2)  # a whole number of ids, so only the record tells


@pytest.mark.parametrize("damage", [overwrite_with_big_ids, truncate])
@pytest.mark.parametrize("split", ["train", "val"])
def test_a_damaged_cache_is_rebuilt_for_train_and_evaluate(project, capsys, damage, split):
    folder = cache_dir(project)
    good = (folder / f"{split}.bin").read_bytes()
    damage(folder / f"{split}.bin")
    code, out, err = run_cli(capsys, "evaluate", project, "--run", "gpt2", "--json")
    assert code == 0, err
    assert "rebuilding it" in err and json.loads(out)["source"] == "validation"
    rebuilt = cache_dir(project)
    assert (rebuilt / f"{split}.bin").read_bytes() == good
    assert not folder.exists() or folder == rebuilt  # the stale folder went with its row
    damage(rebuilt / f"{split}.bin")
    code, out, err = train_again(capsys, project, "again")
    assert code == 0, err
    assert "rebuilding it" in out + err and json.loads(out.splitlines()[-1])["status"] == "finished"
    assert (cache_dir(project) / f"{split}.bin").read_bytes() == good


def test_a_cache_from_before_the_record_is_rebuilt_once(project, capsys):
    with ProjectStore.open(project) as store:
        store.execute("UPDATE token_caches SET checks = NULL")
    code, _, err = run_cli(capsys, "evaluate", project, "--run", "gpt2")
    assert code == 0 and "(made by an older version); rebuilding it" in err
    code, _, err = run_cli(capsys, "evaluate", project, "--run", "gpt2")
    assert code == 0 and "rebuilding" not in err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_replaced_tokenizer_is_refused_and_nothing_changes(project, capsys, command):
    with ProjectStore.open(project) as store:
        tokenizer_json = store.path(store.get_tokenizer("chars")["dir"]) / "tokenizer.json"
    doc = json.loads(tokenizer_json.read_text())
    doc["model"]["vocab"]["\u00e9"] = 60000  # what a different tokenizer.json would encode to
    tokenizer_json.write_text(json.dumps(doc))
    before = project_digest(project)
    if command == "train":
        code, _, err = train_again(capsys, project, "again")
    else:
        code, _, err = run_cli(capsys, "evaluate", project, "--run", "gpt2")
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert "tokenizer 'chars' was changed after it was made" in err
    assert project_digest(project) == before


# ---- leftovers of killed processes (issue 11, point 7) ----------------------------------------------

KILLED_WHILE_ENCODING = textwrap.dedent("""
    import sys, time
    from workbench.core.base.specs import TokenizerSpec
    from workbench.core.ops.catalog import create_tokenizer
    from workbench.core.project.store import ProjectStore

    store = ProjectStore.open(sys.argv[1])
    for event in create_tokenizer(store, "words", TokenizerSpec(name="chars2", kind="char")):
        if getattr(event, "stage", "") == "encode":
            print("encoding", flush=True)
            time.sleep(120)  # SIGKILLed here: nothing of the generator's clean-up runs
""")


def kill_while_encoding(root: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WHILE_ENCODING, str(root)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "encoding"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    leftovers = list((root / "caches").glob(f".tmp-{proc.pid}-*"))
    assert len(leftovers) == 1 and any(leftovers[0].iterdir())  # a half-written cache


@pytest.mark.parametrize("then", ["tokenizer", "train"])
def test_a_tokenizer_killed_while_encoding_is_finished_next_time(project, capsys, then):
    kill_while_encoding(project)
    if then == "tokenizer":  # the same command again
        code, out, err = run_cli(capsys, "tokenizer", project, "--dataset", "words", "--kind", "char",
                                 "--name", "chars2", "--json")
        assert code == 0, err
        assert "interrupted" in err and json.loads(out)["cache"]["train_tokens"] > 0
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", "--tokenizer", "chars2", *TINY_RUN,
                             "--name", "after-kill", "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["status"] == "finished"
    assert [p.name for p in (project / "caches").iterdir() if p.name.startswith(".")] == []


def test_export_removes_a_dead_exports_temp_folder_beside_the_target(project, tmp_path, capsys):
    out = tmp_path / "exports" / "model"
    out.parent.mkdir()
    stale = out.parent / f".model.tmp-{dead_pid()}-{host_tag()}-{uuid.uuid4().hex[:12]}"
    live = out.parent / f".model.tmp-{os.getpid()}-{host_tag()}-{uuid.uuid4().hex[:12]}"
    other = out.parent / f".other.tmp-{dead_pid()}-{host_tag()}-{uuid.uuid4().hex[:12]}"  # another target's
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    code, _, err = run_cli(capsys, "export", project, "--run", "gpt2", "--out", out)
    assert code == 0, err
    assert not stale.exists() and live.exists() and other.exists()
    assert (out / "config.json").is_file()
