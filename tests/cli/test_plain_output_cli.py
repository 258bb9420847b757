"""Terminal escapes in names never reach the terminal (issue 11, point 3): human-readable output shows
control characters as visible escapes; --json output keeps the exact strings (JSON escapes them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import TINY_RUN, run_cli

from workbench.cli import main
from workbench.commands.common import printable

CLEAR = "\x1b[2J"  # clears the screen
TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title
RUN = f"run{CLEAR}{TITLE}"
DATASET = f"data{CLEAR}"
TOKENIZER = f"chars{TITLE}"


def has_control(text: str) -> bool:
    return any(ch not in "\n\t" and (ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f) for ch in text)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A dataset, a char tokenizer and a 4-step run, each with terminal escapes in its name; the text has
    escapes too, so the model's vocabulary (and so its output) can hold them."""
    root = tmp_path_factory.mktemp("escapes") / "p.wbproj"
    text = root.parent / "text.txt"
    text.write_text(f"the king speaks {CLEAR} to his men {TITLE} and they answer.\n" * 300)
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(text), "--name", DATASET]) == 0
    assert main(["tokenizer", str(root), "--dataset", DATASET, "--kind", "char", "--name", TOKENIZER]) == 0
    assert main(["train", str(root), "--dataset", DATASET, "--tokenizer", TOKENIZER, *map(str, TINY_RUN),
                 "--name", RUN, "--json"]) == 0
    return root


def test_printable_escapes_controls_but_newline_and_tab():
    assert printable(f"a{CLEAR}b\tc\nd\re\x7f\x9b") == "a\\x1b[2Jb\tc\nd\\x0de\\x7f\\x9b"
    assert printable("naïve — 日本") == "naïve — 日本"  # text is left alone


def test_runs_shows_escapes_and_json_keeps_the_name(capsys, project):
    code, out, err = run_cli(capsys, "runs", project)
    assert code == 0 and not has_control(out + err), (out, err)
    assert "run\\x1b[2J\\x1b]0;pwned\\x07" in out
    code, out, _ = run_cli(capsys, "runs", project, "--json")
    assert code == 0 and json.loads(out)["runs"][0]["name"] == RUN and "\x1b" not in out


def test_generate_evaluate_attention_and_train_show_no_raw_escapes(capsys, project, tmp_path):
    for args in (("generate", project, "--run", RUN, "--prompt", f"the {CLEAR}king", "--max-new-tokens", 40,
                  "--temperature", 2.0, "--seed", 1),
                 ("evaluate", project, "--run", RUN, "--text", f"the king {TITLE} speaks"),
                 ("attention", project, "--run", RUN, "--text", f"the {CLEAR} king"),
                 ("export", project, "--run", RUN, "--out", tmp_path / "out")):
        code, out, err = run_cli(capsys, *args)
        assert code == 0, err
        assert not has_control(out + err), (args[0], out, err)
    code, out, err = run_cli(capsys, "train", project, "--resume", RUN, "--max-steps", 6)
    assert code == 0, err
    assert not has_control(out + err) and "\\x1b" in out  # "run 1 'run\x1b...' finished", visibly escaped


def test_errors_that_quote_names_show_escapes(capsys, project):
    code, out, err = run_cli(capsys, "generate", project, "--run", f"nope{TITLE}", "--prompt", "x")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not has_control(err), err
    code, out, err = run_cli(capsys, "train", project, "--dataset", DATASET, "--batch-size", f"4{CLEAR}")
    assert code == 2 and not has_control(err), err  # argparse's message quotes the bad value
