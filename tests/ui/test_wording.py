"""Messages in the window use the window's words, not the command line's (issue 10, defect 5).

The core writes its messages for the command line (`--block-size`, `workbench new PATH`);
`workbench.ui.wording.for_window` rewrites them wherever the window shows one: dialogs, the model
form, the status bar, the training panel's run line, the playground and the import dialog.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import workbench.core
from workbench.core.base.errors import NotAProjectError
from workbench.core.base.specs import DatasetSpec, ModelSpec, SampleSpec, TokenizerSpec, TrainSpec
from workbench.core.project.store import ProjectStore
from workbench.ui import errors
from workbench.ui.wording import FLAG_WORDS, for_window

CORE = Path(workbench.core.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _core_strings() -> list[str]:
    """Every string literal of the core that is not a docstring; f-strings with X for each value."""
    found: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        parts_of_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                found.append("".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values))
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                  and id(node) not in parts_of_fstrings):
                found.append(node.value)
    return found


def test_every_flag_the_core_names_has_window_words():
    strings = [s for s in _core_strings() if FLAG.search(s) or "`workbench " in s]
    assert len(strings) > 40  # the scan sees the messages (a broken scan would pass vacuously)
    unknown = {flag for s in strings for flag in FLAG.findall(s)} - set(FLAG_WORDS)
    assert not unknown, f"add window words for {sorted(unknown)} to workbench.ui.wording.FLAG_WORDS"
    for text in strings:
        shown = for_window(text)
        assert not FLAG.search(shown) and "`workbench" not in shown, (text, shown)


@pytest.mark.parametrize(("message", "shown"), [
    ("the train split has 10 tokens, fewer than one window of --block-size + 1 = 65; use a smaller --block-size",
     "the train split has 10 tokens, fewer than one window of context + 1 = 65; use a smaller context"),
    ("no project at /x; create one with `workbench new /x`", "no project at /x; create one with File > New Project"),
    ("the loss became nan at step 3; lower --lr", "the loss became nan at step 3; lower the learning rate"),
    ("Choose the column that holds the text (--field NAME).", "Choose the column that holds the text (field / column)."),
    ("the dataset needs a name: pass --name NAME", "the dataset needs a name: type a name"),
    ("no dataset named 'my--lr'", "no dataset named 'my--lr'"),  # user text is left as it is
    ("--- sample 2 ---", "--- sample 2 ---"),
])
def test_messages_are_said_in_the_windows_words(message, shown):
    assert for_window(message) == shown


@pytest.mark.parametrize("spec", [ModelSpec(block_size=1), ModelSpec(n_embd=130, n_head=4), TrainSpec(lr=2.0),
                                  TrainSpec(grad_accum=0), SampleSpec(top_p=0), DatasetSpec(name=""),
                                  TokenizerSpec(name="t", kind="pretrained")])
def test_spec_messages_lose_their_flags(spec):
    with pytest.raises(Exception) as caught:
        spec.validate()
    assert FLAG.search(str(caught.value))  # the command line keeps its words
    assert not FLAG.search(for_window(str(caught.value)))


def test_a_dialog_says_file_new_project_not_the_command(qtbot, tmp_path, shown_errors):
    with pytest.raises(NotAProjectError) as caught:
        ProjectStore.open(tmp_path / "nowhere.wbproj")
    assert "`workbench new" in str(caught.value)
    errors.show_error(None, str(caught.value))
    assert shown_errors == [(f"no project at {tmp_path / 'nowhere.wbproj'}; create one with File > New Project", "")]


def test_the_status_bar_and_run_line_use_the_windows_words(window, project):
    window.open_project(project)
    window.status.showMessage("out of memory; use --batch-size 4")
    assert window.status.currentMessage() == "out of memory; use batch size 4"
    training = window.panels.training
    training.runs.select_key(window.store.get_run("too-fast")["id"])
    assert training.info.text() == "the loss became nan at step 13; lower the learning rate"
