"""The tokenizer lab in the dataset panel: train tokenizers as jobs, see tokens, compare two.

The token view is checked against the real tokenizer (`Tokenizer.encode` / `token_text`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from workbench.core.base.events import run_to_end
from workbench.core.project.store import ProjectStore

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                        "This plugin does not support raise")]  # the offscreen tooltip

WAIT_MS = 60_000
WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "seven", "wizards",
         "quietly", "hex", "jolly", "bakers", "and", "the", "king", "sings", "of", "old", "ships")


def drive(gen):
    """Run a core generator to its end; its return value."""
    return run_to_end(gen)[1]


@pytest.fixture
def text_project(tmp_path: Path) -> Path:
    """A project with one dataset of plain English-like text (about 30 kB)."""
    from workbench.core.base.specs import DatasetSpec
    from workbench.core.ops.catalog import import_into_project

    lines = []
    for i in range(600):
        lines.append(" ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(9)).capitalize() + ".")
    source = tmp_path / "words.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "lab.wbproj"
    with ProjectStore.create(path) as store:
        drive(import_into_project(store, [source], DatasetSpec(name="words")))
    return path


def open_lab(window, project: Path):
    assert window.open_project(project)
    panel = window.panels.dataset
    panel.datasets.select_key(panel.datasets.keys()[0])
    panel.tabs.setCurrentIndex(panel.tabs.count() - 1)
    return panel


def train(qtbot, panel, kind: str, name: str, vocab_size: int | None = None) -> int:
    form = panel.tokenizer_form
    form.kind.setCurrentIndex(form.kind.findData(kind))
    if vocab_size is not None:
        form.vocab_size.setValue(vocab_size)
    form.name.edit.setText(name)
    assert form.train_button.isEnabled(), form.train_button.toolTip()
    qtbot.mouseClick(form.train_button, Qt.MouseButton.LeftButton)
    assert panel.is_busy()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=WAIT_MS)
    tokenizer_id = panel.tokenizer_id(name)
    assert tokenizer_id is not None
    return tokenizer_id


def shown(qtbot, panel, slot: str, tokenizer_id: int):
    column = panel.lab.columns[slot]
    qtbot.waitUntil(lambda: column.result is not None and column.result.tokenizer_id == tokenizer_id
                    and panel.lab.is_current(slot, tokenizer_id, panel.lab.text()), timeout=WAIT_MS)
    return column


def load(window, name: str):
    from workbench.core.ops.catalog import load_project_tokenizer

    return load_project_tokenizer(window.store, window.store.get_tokenizer(name))


def test_train_a_char_tokenizer_and_see_its_tokens(qtbot, window, text_project, shown_errors):
    panel = open_lab(window, text_project)
    form = panel.tokenizer_form
    assert form.dataset.currentText() == "words" and form.name.text() == "words-char"
    dataset = window.store.get_dataset("words")
    train_text = (window.store.path(dataset["dir"]) / "train.txt").read_text(encoding="utf-8")
    assert panel.lab.text() == train_text[:1500]  # the lab starts on the dataset's first characters
    char_id = train(qtbot, panel, "char", "chars")
    assert shown_errors == []
    row = window.store.get_tokenizer("chars")
    assert row["kind"] == "char" and window.store.get_token_cache(row["dataset_id"], row["id"]) is not None

    panel.lab.text_edit.setPlainText("Hello <b>wizard</b> & Zürich\nok")  # typed by the user
    column = shown(qtbot, panel, "a", char_id)
    tokenizer = load(window, "chars")
    ids = tokenizer.encode(panel.lab.text())
    view = column.view
    assert view.token_count() == len(ids) == len(panel.lab.text())
    assert view.token_ids() == ids
    unk = tokenizer.unk_token_id
    known = [i for i, token in enumerate(ids) if token != unk]
    assert [view.token_texts()[i] for i in known] == [tokenizer.token_text(ids[i]) for i in known]
    for index in (0, 6, len(ids) - 1):
        tip = view.tooltip_at(index)
        assert tip.splitlines()[0].startswith(f"Token {index + 1} of {len(ids)}, id {ids[index]}")
        assert tip.splitlines()[1] == view.token_texts()[index]
    assert ids[6] == unk and "unknown" in view.tooltip_at(6).splitlines()[0]
    assert "<" not in view.tooltip_at(6).splitlines()[0]  # so Qt keeps the tooltip plain text
    assert view.token_texts()[6] == "<"  # an unknown character shows as itself, marked
    assert "Hello·<b>wizard</b>·&·Z" in view.shown_text()  # shown as typed, never as HTML
    result = column.result
    assert result.unknown_chars == sum(1 for i in ids if i == tokenizer.unk_token_id) > 0
    assert result.char_coverage == pytest.approx(1 - result.unknown_chars / len(ids))
    assert f"{100 * result.char_coverage:.1f} % of characters known" in column.numbers.text()
    assert result.distinct_ids == len(set(ids)) and result.vocab_size == tokenizer.vocab_size

    # a real hover: the tooltip under the mouse names the token there
    rect = view.token_rect(2)
    event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center()))
    QApplication.sendEvent(view.viewport(), event)
    assert QToolTip.isVisible() and QToolTip.text() == view.tooltip_at(2)
    away = QPoint(view.viewport().width() - 2, view.viewport().height() - 2)
    assert view.token_index_at(away) is None


def test_train_bpe_and_compare_side_by_side(qtbot, window, text_project, shown_errors):
    panel = open_lab(window, text_project)
    char_id = train(qtbot, panel, "char", "chars")
    bpe_id = train(qtbot, panel, "bpe", "bpe-small", vocab_size=300)
    assert shown_errors == []
    assert window.store.get_tokenizer("bpe-small")["vocab_size"] <= 300
    lab = panel.lab
    assert lab.columns["a"].tokenizer_id() == bpe_id  # the newest tokenizer is shown at once
    lab.select_tokenizer("b", char_id)
    lab.text_edit.setPlainText("the quick brown fox jumps over the lazy dog\nthe king sings")
    a, b = shown(qtbot, panel, "a", bpe_id), shown(qtbot, panel, "b", char_id)
    bpe, char = load(window, "bpe-small"), load(window, "chars")
    assert a.view.token_ids() == bpe.encode(lab.text()) and b.view.token_ids() == char.encode(lab.text())
    assert a.view.token_count() < b.view.token_count() == len(lab.text())
    assert a.result.tokens_per_char < b.result.tokens_per_char == 1.0
    assert a.result.char_coverage == 1.0  # byte-level BPE has no unknown token
    assert f"{a.view.token_count():,} tokens" in a.numbers.text()
    assert f"{b.view.token_count():,} tokens" in b.numbers.text()
    assert "⏎" in a.view.token_texts() or any("⏎" in t for t in a.view.token_texts())

    lab.text_edit.setPlainText("")  # nothing to encode: both views say so instead of showing old tokens
    lab.encode_now()
    assert a.view.token_count() == 0 and b.view.token_count() == 0
    lab.select_tokenizer("b", None)
    lab.text_edit.setPlainText("back to one")
    shown(qtbot, panel, "a", bpe_id)
    assert b.view.token_count() == 0 and "Choose a tokenizer" in b.view.placeholderText()


def test_a_second_tokenizer_is_shown_beside_the_first(qtbot, window, text_project, shown_errors):
    """Issue 10, defect 2: after training a second tokenizer both columns showed the new one."""
    panel = open_lab(window, text_project)
    lab = panel.lab
    char_id = train(qtbot, panel, "char", "chars")
    assert (lab.columns["a"].tokenizer_id(), lab.columns["b"].tokenizer_id()) == (char_id, None)
    bpe_id = train(qtbot, panel, "bpe", "bpe-small", vocab_size=300)
    assert shown_errors == []
    # the new tokenizer in A, the one it replaced there in B, without touching the pickers
    assert (lab.columns["a"].tokenizer_id(), lab.columns["b"].tokenizer_id()) == (bpe_id, char_id)
    assert lab.columns["a"].combo.currentText().startswith("bpe-small")
    assert lab.columns["b"].combo.currentText().startswith("chars")
    lab.text_edit.setPlainText("the lazy dog sings of old ships")
    a, b = shown(qtbot, panel, "a", bpe_id), shown(qtbot, panel, "b", char_id)
    bpe, char = load(window, "bpe-small"), load(window, "chars")
    assert a.view.token_ids() == bpe.encode(lab.text()) and b.view.token_ids() == char.encode(lab.text())
    assert a.view.token_texts() != b.view.token_texts() and b.view.token_count() == len(lab.text())
    assert (a.result.tokenizer_name, b.result.tokenizer_name) == ("bpe-small", "chars")

    third_id = train(qtbot, panel, "char", "chars-2")  # a third: A shows it, B still shows another one
    assert lab.columns["a"].tokenizer_id() == third_id and lab.columns["b"].tokenizer_id() in (bpe_id, char_id)
    lab.select_tokenizer("a", lab.columns["b"].tokenizer_id())  # picking B's tokenizer for A swaps them
    assert lab.columns["b"].tokenizer_id() == third_id


def test_stale_answers_are_ignored_and_the_form_checks_names(qtbot, window, text_project):
    from workbench.ui.jobs.dataset import Encoding

    panel = open_lab(window, text_project)
    char_id = train(qtbot, panel, "char", "chars")
    form = panel.tokenizer_form
    form.name.edit.setText("chars")
    assert not form.train_button.isEnabled() and "already exists" in form.train_button.toolTip()
    form.kind.setCurrentIndex(form.kind.findData("pretrained"))
    form.name.edit.setText("pre")
    assert not form.train_button.isEnabled() and "folder" in form.train_button.toolTip()
    assert form.source.isVisibleTo(form) and not form.vocab_size.isVisibleTo(form)
    form.source.setText("/nowhere/tokenizer")
    assert form.train_button.isEnabled()
    assert form.spec().source == "/nowhere/tokenizer" and form.spec().kind == "pretrained"

    lab = panel.lab
    lab.text_edit.setPlainText("abc")
    shown(qtbot, panel, "a", char_id)
    old = Encoding(char_id, "chars", "char", 10, 3, 3, 3, 0, (1, 2, 3), ("x", "y", "z"), frozenset())
    assert not panel.show_encoding("a", "an older text", old)
    assert lab.columns["a"].view.token_texts() == ["a", "b", "c"]


def test_token_view_colours_alternate_and_follow_the_theme(qtbot):
    from PySide6.QtGui import QTextCursor

    from workbench.ui import theme
    from workbench.ui.widgets.token_view import TokenView, token_colors

    view = TokenView()
    qtbot.addWidget(view)
    view.set_tokens([5, 6, 0, 7], ["ab", "⏎", "<|endoftext|>", "·c"], special_ids={0}, total=9)
    assert view.token_count() == 4
    assert view.shown_text() == "ab⏎\n<|endoftext|>·c\n… 5 more tokens not shown"

    def background(index: int):
        cursor = QTextCursor(view.document())
        cursor.setPosition(view._starts[index] + 1)
        return cursor.charFormat().background().color().name()

    light = [c.name() for c in token_colors(False)]
    assert [background(i) for i in range(4)] == [light[0], light[1], light[2], light[1]]
    app = QApplication.instance()
    try:
        theme.apply_color_scheme(app, Qt.ColorScheme.Dark)
        dark = [c.name() for c in token_colors(True)]
        qtbot.waitUntil(lambda: background(0) == dark[0])  # palette changes arrive as events
        assert background(2) == dark[2] and background(1) == dark[1]
    finally:
        theme.apply_color_scheme(app, Qt.ColorScheme.Light)
    with pytest.raises(ValueError):
        view.set_tokens([1, 2], ["a"])
