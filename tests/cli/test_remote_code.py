"""Code shipped in a shared project never runs, and no "run custom code? [y/N]" prompt reaches the user.

Each case plants a folder whose config.json (or tokenizer_config.json) has an `auto_map` pointing to
a Python file beside it that writes a marker file when imported: as a run's checkpoint, as the
tokenizer saved in a checkpoint, as an `--init-from` model and as a pretrained tokenizer source.
Every command refuses (exit 2, one `error:` line) or loads the folder with transformers' own code.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import make_one_run_project, run_cli

from workbench.core.project.checkpoints import MANIFEST, sha256_file

EVIL = """import pathlib
pathlib.Path({marker!r}).write_text("this code ran")
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
class EvilConfig(GPT2Config):
    model_type = "evil-gpt"
class EvilModel(GPT2LMHeadModel):
    config_class = EvilConfig
class EvilTokenizer(PreTrainedTokenizerFast):
    pass
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return make_one_run_project(tmp_path_factory.mktemp("remote-code") / "base.wbproj")


@pytest.fixture(autouse=True)
def no_prompt(monkeypatch):
    """transformers asks with input(); it swallows exceptions there, so record the call and fail after."""
    asked: list[str] = []

    def refuse(prompt: str = "") -> str:
        asked.append(prompt)
        raise EOFError("stdin is closed")

    monkeypatch.setattr(builtins, "input", refuse)
    yield
    assert not asked, f"a prompt reached the user: {asked[0]!r}"


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "MARKER"
    yield path
    assert not path.exists(), "code from the project ran"


def _plant_model(folder: Path, marker: Path, model_type: str) -> None:
    """config.json maps AutoConfig / AutoModelForCausalLM to evil_code.py; no workbench_spec.json."""
    (folder / "evil_code.py").write_text(EVIL.format(marker=str(marker)))
    (folder / "workbench_spec.json").unlink(missing_ok=True)
    config = json.loads((folder / "config.json").read_text())
    config.pop("workbench_spec", None)
    config["model_type"] = model_type
    config["auto_map"] = {"AutoConfig": "evil_code.EvilConfig", "AutoModelForCausalLM": "evil_code.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))


def _plant_tokenizer(folder: Path, marker: Path) -> None:
    """tokenizer_config.json maps AutoTokenizer to evil_code.py (a class only that code defines)."""
    (folder / "evil_code.py").write_text(EVIL.format(marker=str(marker)))
    (folder / "workbench_tokenizer.json").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["tokenizer_class"] = "EvilTokenizer"
    config["auto_map"] = {"AutoTokenizer": [None, "evil_code.EvilTokenizer"]}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def _project_copy(tmp_path: Path, base: Path) -> tuple[Path, Path]:
    """A copy of the project and its run's latest checkpoint folder."""
    project = tmp_path / "p.wbproj"
    shutil.copytree(base, project)
    con = sqlite3.connect(project / "project.db")
    (rel,) = con.execute("SELECT dir FROM checkpoints WHERE is_latest = 1").fetchone()
    con.close()
    return project, project / rel


def _reseal(project: Path, checkpoint: Path) -> None:
    """Rewrite the manifest and the row's sha256, as someone sharing a doctored project would."""
    files = {p.relative_to(checkpoint).as_posix(): sha256_file(p) for p in sorted(checkpoint.rglob("*"))
             if p.is_file() and p.name != MANIFEST}
    manifest = json.dumps({"format": 1, "step": int(checkpoint.name), "files": files}, indent=1).encode()
    (checkpoint / MANIFEST).write_bytes(manifest)
    con = sqlite3.connect(project / "project.db")
    with con:
        con.execute("UPDATE checkpoints SET sha256 = ? WHERE is_latest = 1", (hashlib.sha256(manifest).hexdigest(),))
    con.close()


def _refused(capsys, *args) -> str:
    """Exit 2 and one `error:` line, the last (train prints its run header first), no traceback."""
    code, _, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and [x for x in lines if x.startswith("error: ")] == lines[-1:], err
    assert "Traceback" not in err
    return lines[-1]


def _commands(project: Path, tmp_path: Path) -> list[list]:
    return [["generate", project, "--run", "gpt2", "--prompt", "the", "--max-new-tokens", 3],
            ["evaluate", project, "--run", "gpt2"],
            ["attention", project, "--run", "gpt2", "--text", "the king", "--json"],
            ["train", project, "--resume", "gpt2", "--max-steps", 6]]


def test_a_checkpoint_that_needs_its_own_code_is_refused(tmp_path, capsys, base, marker):
    project, checkpoint = _project_copy(tmp_path, base)
    _plant_model(checkpoint, marker, "evil-gpt")
    _reseal(project, checkpoint)
    for args in _commands(project, tmp_path):
        assert "never runs code" in _refused(capsys, *args)
    code, _, err = run_cli(capsys, "export", project, "--run", "gpt2", "--out", tmp_path / "export")
    assert code == 0, err  # copies files, loads nothing


def test_a_checkpoint_with_auto_map_and_a_known_type_loads_without_its_code(tmp_path, capsys, base, marker):
    project, checkpoint = _project_copy(tmp_path, base)
    _plant_model(checkpoint, marker, "gpt2")
    _reseal(project, checkpoint)
    for args in _commands(project, tmp_path):
        code, _, err = run_cli(capsys, *args)
        assert code == 0, (args[0], err)


def test_a_checkpoint_tokenizer_that_needs_its_own_code_is_refused(tmp_path, capsys, base, marker):
    project, checkpoint = _project_copy(tmp_path, base)
    _plant_tokenizer(checkpoint / "tokenizer", marker)
    _reseal(project, checkpoint)
    for args in _commands(project, tmp_path)[:3]:
        assert "custom code" in _refused(capsys, *args)


def test_init_from_and_a_pretrained_tokenizer_source_never_run_their_code(tmp_path, capsys, base, marker):
    project, checkpoint = _project_copy(tmp_path, base)
    model = tmp_path / "downloaded-model"
    shutil.copytree(checkpoint, model)
    _plant_model(model, marker, "evil-gpt")
    _refused(capsys, "train", project, "--dataset", "words", "--init-from", model, "--max-steps", 2, "--device", "cpu")
    tokenizer = tmp_path / "downloaded-tokenizer"
    shutil.copytree(checkpoint / "tokenizer", tokenizer)
    _plant_tokenizer(tokenizer, marker)
    _refused(capsys, "tokenizer", project, "--dataset", "words", "--kind", "pretrained", "--source", tokenizer,
             "--name", "evil")


def test_an_export_carries_no_code_from_the_project(tmp_path, capsys, base, marker):
    """A doctored checkpoint's evil_code.py and auto_map stay behind: whoever loads the export later
    with transformers is never offered that code."""
    project, checkpoint = _project_copy(tmp_path, base)
    _plant_model(checkpoint, marker, "gpt2")
    _reseal(project, checkpoint)
    out = tmp_path / "export"
    code, _, err = run_cli(capsys, "export", project, "--run", "gpt2", "--out", out)
    assert code == 0, err
    assert not list(out.glob("*.py"))
    config = json.loads((out / "config.json").read_text())
    assert "auto_map" not in config and config["model_type"] == "gpt2"
