"""Shared by the command-line tests: run `workbench` in-process, fingerprint a project, and a project
with three tiny trained runs (gpt2, bert, lstm) to inspect."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from workbench.cli import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one `workbench` command run in this process."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def project_digest(root: Path) -> str:
    """Database content (via dump, so WAL state does not matter) plus the list of files.

    Equal digests before and after a command mean it left the project exactly as it was."""
    digest = hashlib.sha256()
    db = root / "project.db"
    try:
        con = sqlite3.connect(db)
        digest.update("\n".join(con.iterdump()).encode())
        con.close()
    except sqlite3.DatabaseError:
        digest.update(db.read_bytes())
    for path in sorted(p.relative_to(root).as_posix() for p in root.rglob("*")):
        if not path.startswith("project.db"):
            digest.update(path.encode())
    return digest.hexdigest()


TINY_RUN = ["--n-layer", 2, "--n-head", 2, "--n-embd", 32, "--block-size", 32, "--batch-size", 4, "--device", "cpu",
            "--lr", "3e-3", "--warmup", 2, "--max-steps", 4, "--eval-interval", 2]


def make_words_project(root: Path, lines: int = 600) -> Path:
    """A project with the dataset "words" (random sentences of twelve words) and a char tokenizer "chars"."""
    text = root.parent / f"{root.stem}-words.txt"
    rng = np.random.default_rng(0)
    words = ["the", "king", "speaks", "to", "his", "men", "and", "they", "answer", "with", "song", "night"]
    text.write_text("\n".join(" ".join(rng.choice(words, size=8)) + "." for _ in range(lines)) + "\n")
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(text), "--name", "words"]) == 0
    assert main(["tokenizer", str(root), "--dataset", "words", "--kind", "char", "--name", "chars"]) == 0
    return root


def make_runs_project(root: Path) -> Path:
    """A project with a char tokenizer and three finished 4-step runs named gpt2, bert and lstm."""
    make_words_project(root)
    for arch in ("gpt2", "bert", "lstm"):
        assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", arch,
                     *map(str, TINY_RUN), "--name", arch, "--json"]) == 0
    return root


def make_one_run_project(root: Path) -> Path:
    """A project with a char tokenizer "chars" and one finished 4-step gpt2 run named "gpt2"."""
    text = root.parent / f"{root.stem}-words.txt"
    text.write_text("the king speaks to his men and they answer with song at night.\n" * 300)
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(text), "--name", "words"]) == 0
    assert main(["tokenizer", str(root), "--dataset", "words", "--kind", "char", "--name", "chars"]) == 0
    assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", "gpt2",
                 *map(str, TINY_RUN), "--name", "gpt2", "--json"]) == 0
    return root
