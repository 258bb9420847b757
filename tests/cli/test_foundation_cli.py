"""The command-line contract of the foundation commands: good paths and a table of bad inputs.

Every bad input must exit 2 with one `error:` line, no traceback, and leave the project as it was:
the same database content and the same files.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import project_digest, run_cli
from shared_data import SHAKESPEARE

from workbench.cli import main
from workbench.core.ops.catalog import load_project_tokenizer
from workbench.core.project.schema import SCHEMA_VERSION
from workbench.core.project.store import ProjectStore

SHAKE = SHAKESPEARE  # the shared 1.1 MB text




@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project with one dataset and one char tokenizer, shared by the read-mostly tests."""
    root = tmp_path_factory.mktemp("cli") / "p.wbproj"
    text = root.parent / "small.txt"
    text.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 50)
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(text), "--name", "small"]) == 0
    assert main(["tokenizer", str(root), "--dataset", "small", "--kind", "char", "--name", "chars"]) == 0
    return root


def test_import_and_tokenizer_json(tmp_path, capsys):
    root = tmp_path / "q.wbproj"
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"text": f"document number {i} with some words"}) + "\n" for i in range(40)))
    assert run_cli(capsys, "new", root, "--json")[0] == 0
    code, out, _ = run_cli(capsys, "import", root, src, "--name", "docs", "--json", "--val-fraction", "0.25")
    assert code == 0
    doc = json.loads(out)
    assert doc["dataset"]["name"] == "docs" and doc["dataset"]["documents"] == 40
    assert doc["stats"]["documents"] == 40
    code, out, _ = run_cli(capsys, "tokenizer", root, "--dataset", "docs", "--kind", "bpe", "--vocab-size", "300",
                           "--name", "bpe", "--json")
    assert code == 0
    tok = json.loads(out)
    assert tok["tokenizer"]["kind"] == "bpe" and tok["tokenizer"]["vocab_size"] <= 300
    assert tok["cache"]["train_tokens"] > 0 and tok["cache"]["val_tokens"] > 0
    code, out, _ = run_cli(capsys, "runs", root, "--json")
    listing = json.loads(out)
    assert [d["name"] for d in listing["datasets"]] == ["docs"]
    assert [t["name"] for t in listing["tokenizers"]] == ["bpe"]
    assert listing["runs"] == []


def test_tokenizer_special_tokens_and_a_vocabulary_smaller_than_asked(tmp_path, capsys):
    root, text = tmp_path / "t.wbproj", tmp_path / "t.txt"
    text.write_text("a small text with few distinct pairs\n" * 50, encoding="utf-8")
    run_cli(capsys, "new", root)
    run_cli(capsys, "import", root, text, "--name", "t")
    code, out, err = run_cli(capsys, "tokenizer", root, "--dataset", "t", "--kind", "bpe", "--vocab-size", 50_000,
                             "--special-tokens", "<|user|>, <|bot|>", "--name", "b", "--json")
    assert code == 0, err
    assert "fewer than the 50,000 asked for" in err
    with ProjectStore.open(root) as store:
        tokenizer = load_project_tokenizer(store, store.get_tokenizer("b"))
    assert tokenizer.special_tokens == {"<|endoftext|>": 0, "[MASK]": 1, "<|user|>": 2, "<|bot|>": 3}
    assert tokenizer.encode("<|bot|>")[0] == 3 and json.loads(out)["tokenizer"]["vocab_size"] < 50_000


def test_import_builtin_sample(tmp_path, capsys):
    root = tmp_path / "s.wbproj"
    run_cli(capsys, "new", root)
    code, out, _ = run_cli(capsys, "import", root, "--sample", "addition", "--json")
    assert code == 0
    assert json.loads(out)["dataset"]["name"] == "addition"


def _bad_inputs(tmp: Path, project: Path) -> list[tuple[str, list, str]]:
    """(case id, argv, a word the message must contain)."""
    (tmp / "empty.txt").write_bytes(b"")
    (tmp / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp / "bad-utf8.txt").write_bytes(b"hello \xff\xfe\xfa world\n" * 10)
    (tmp / "broken.jsonl").write_text('{"text": "a"}\n{"text": \n')
    (tmp / "nofield.jsonl").write_text('{"body": "a"}\n{"body": "b"}\n')
    (tmp / "nocol.csv").write_text("a,b\n1,2\n")
    (tmp / "blank.jsonl").write_text('{"text": ""}\n{"text": "   "}\n')
    (tmp / "images").mkdir(exist_ok=True)
    (tmp / "images" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp / "ok.txt").write_text("some perfectly fine text\n" * 20)
    (tmp / "quote.csv").write_text('text\n"fine"\n"never closed\nmore\nrows\n')
    (tmp / "plain").mkdir(exist_ok=True)
    p, ok = project, tmp / "ok.txt"
    return [
        ("empty file", ["import", p, tmp / "empty.txt", "--name", "e1"], "empty"),
        ("binary file", ["import", p, tmp / "binary.bin", "--name", "e2"], "binary"),
        ("invalid utf-8", ["import", p, tmp / "bad-utf8.txt", "--name", "e3"], "offset"),
        ("broken jsonl", ["import", p, tmp / "broken.jsonl", "--name", "e4", "--format", "jsonl"], "line"),
        ("jsonl without field", ["import", p, tmp / "nofield.jsonl", "--name", "e5", "--format", "jsonl"], "body"),
        ("csv without column", ["import", p, tmp / "nocol.csv", "--name", "e6", "--format", "csv", "--field", "text"], "text"),
        ("missing file", ["import", p, tmp / "missing.txt", "--name", "e7"], "missing.txt"),
        ("duplicate dataset name", ["import", p, ok, "--name", "small"], "already exists"),
        ("not a project", ["import", tmp / "plain", ok, "--name", "x"], "not a workbench project"),
        ("no project folder", ["runs", tmp / "nowhere"], "workbench new"),
        ("unknown dataset", ["tokenizer", p, "--dataset", "nope", "--kind", "char", "--name", "t"], "nope"),
        ("negative vocab", ["tokenizer", p, "--dataset", "small", "--kind", "bpe", "--vocab-size", "-5", "--name", "t2"], "vocab"),
        ("val fraction above 1", ["import", p, ok, "--name", "v", "--val-fraction", "1.5"], "val-fraction"),
        ("val fraction negative", ["import", p, ok, "--name", "v", "--val-fraction", "-0.1"], "val-fraction"),
        ("folder without text", ["import", p, tmp / "images", "--name", "f"], "text"),
        ("unknown format", ["import", p, ok, "--name", "u", "--format", "docx"], "format"),
        ("nothing to import", ["import", p, "--name", "n"], "nothing to import"),
        ("no dataset name", ["import", p, ok], "--name"),
        ("unknown sample", ["import", p, "--sample", "poems", "--name", "s"], "poems"),
        ("duplicate tokenizer", ["tokenizer", p, "--dataset", "small", "--kind", "char", "--name", "chars"], "already exists"),
        ("pretrained without source", ["tokenizer", p, "--dataset", "small", "--kind", "pretrained", "--name", "pt"], "--source"),
        ("pretrained folder missing", ["tokenizer", p, "--dataset", "small", "--kind", "pretrained",
                                       "--source", tmp / "no-such-model", "--name", "pt2"], "no-such-model"),
        ("vocab not a number", ["tokenizer", p, "--dataset", "small", "--kind", "bpe", "--vocab-size", "many", "--name", "t3"], "many"),
        ("empty documents only", ["import", p, tmp / "blank.jsonl", "--name", "b", "--strip"], "empty"),
        ("jsonl format on plain text", ["import", p, ok, "--name", "j", "--format", "jsonl"], "line"),
        ("new over an existing project", ["new", p], "already exists"),
        ("both files and sample", ["import", p, ok, "--sample", "addition", "--name", "z"], "either"),
        ("unclosed csv quote", ["import", p, tmp / "quote.csv", "--name", "q", "--format", "csv"], "line 3"),
        ("special token with a space", ["tokenizer", p, "--dataset", "small", "--kind", "bpe",
                                        "--special-tokens", "<|a|>,b c", "--name", "t4"], "whitespace"),
    ]


def test_bad_inputs_exit_2_and_leave_the_project_unchanged(project, tmp_path, capsys):
    cases = _bad_inputs(tmp_path, project)
    assert len(cases) >= 20
    failures = []
    for case_id, argv, word in cases:
        before = project_digest(project)
        code, out, err = run_cli(capsys, *argv)
        lines = err.strip().splitlines()
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if len(lines) != 1 or not lines[0].startswith("error:"):
            problems.append(f"stderr {err!r}")
        if word.lower() not in err.lower():
            problems.append(f"message lacks {word!r}: {err.strip()!r}")
        if project_digest(project) != before:
            problems.append("project changed")
        if problems:
            failures.append(f"{case_id}: {'; '.join(problems)}")
    assert not failures, "\n".join(failures)


def test_import_refuses_binary_and_blank_files_and_takes_an_encoding(project, tmp_path, capsys):
    """Issue 10, defect 7: binary is not text, whitespace is not text, and a cp1252 file imports exactly."""
    western = "Café déjà vu — “quoted” naïve façade, 5 €\n"
    (tmp_path / "western.txt").write_bytes(western.encode("cp1252") * 10)
    (tmp_path / "blank.txt").write_text(" \n\t\n  \r\n", encoding="utf-8")
    (tmp_path / "program").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(3000))
    (tmp_path / "ok.txt").write_text("fine text\n", encoding="utf-8")
    bad = [
        (["import", project, tmp_path / "program", "--name", "b1"], "not text"),
        (["import", project, tmp_path / "blank.txt", "--name", "b2"], "only whitespace"),
        (["import", project, tmp_path / "western.txt", "--name", "b3"], "--encoding cp1252"),
        (["import", project, tmp_path / "ok.txt", "--name", "b4", "--encoding", "klingon"], "unknown text encoding"),
        (["import", project, tmp_path / "ok.txt", "--name", "b5", "--encoding", "base64"], "unknown text encoding"),
    ]
    for argv, word in bad:
        before = project_digest(project)
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1, err
        assert word in err and "UTF-16" not in err, err
        assert project_digest(project) == before

    root = tmp_path / "w.wbproj"
    run_cli(capsys, "new", root)
    code, out, err = run_cli(capsys, "import", root, tmp_path / "western.txt", "--name", "w", "--encoding", "cp1252",
                             "--val-fraction", "0", "--json")
    assert code == 0, err
    with ProjectStore.open(root) as store:
        row = store.get_dataset("w")
        text = (store.path(row["dir"]) / "train.txt").read_text(encoding="utf-8")
    assert text == western * 10 and "\ufffd" not in text
    assert row["spec"]["encoding"] == "cp1252"
    assert json.loads(out)["stats"]["encodings"] == {str(tmp_path / "western.txt"): "cp1252"}


def test_damaged_and_future_projects_are_refused_unchanged(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.wbproj"
    corrupt.mkdir()
    (corrupt / "project.db").write_bytes(b"garbage" * 500)
    future = tmp_path / "future.wbproj"
    assert main(["new", str(future)]) == 0
    con = sqlite3.connect(future / "project.db")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    for root, word in ((corrupt, "damaged"), (future, "newer")):
        before = project_digest(root)
        code, _, err = run_cli(capsys, "runs", root)
        assert code == 2 and err.startswith("error:") and word in err
        assert project_digest(root) == before


def test_real_process_prints_one_error_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "workbench", "import", str(tmp_path / "nope"), "x.txt", "--name", "n"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not SHAKE.exists(), reason="tinyshakespeare not available")
def test_tinyshakespeare_end_to_end(tmp_path, capsys):
    root = tmp_path / "shake.wbproj"
    run_cli(capsys, "new", root)
    code, out, _ = run_cli(capsys, "import", root, SHAKE, "--name", "shake", "--json")
    assert code == 0
    stats = json.loads(out)["stats"]
    assert stats["characters"] == len(SHAKE.read_text(encoding="utf-8"))
    assert stats["unique_characters"] == 65
    code, out, _ = run_cli(capsys, "tokenizer", root, "--dataset", "shake", "--kind", "char", "--name", "chars", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["cache"]["dtype"] == "uint16"
    assert doc["cache"]["train_tokens"] + doc["cache"]["val_tokens"] == stats["characters"]
