"""User strings show as typed (issue 11, point 3): a dataset, tokenizer, run, project or file named
`<b>bold</b> <img src=x>` is never rendered as HTML in a label, a message box or a tooltip.

Set WORKBENCH_SHOTS=/some/folder to keep the screenshots (they go to the test's tmp folder otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine.jobs import Probe, counting
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QPainter, QPixmap
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QMessageBox, QToolTip, QWidget
from ui.conftest import fill_project

from workbench.core.base.specs import DatasetSpec
from workbench.core.project.store import ProjectStore, now_iso
from workbench.ui import errors, theme
from workbench.ui.widgets import plain_text
from workbench.ui.widgets.plain_text import plain_tooltip, tooltip_text
from workbench.ui.widgets.token_view import TokenView

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

HOSTILE = "<b>bold</b> <img src=x>"
IN_PATH = "<img src=x> <b>bold"  # the same for a file or folder name (no "/")


@pytest.fixture
def hostile_project(tmp_path: Path) -> Path:
    """The GUI fixture project plus a dataset, tokenizer and run named HOSTILE, in a folder IN_PATH."""
    path = tmp_path / f"{IN_PATH}.wbproj"
    with ProjectStore.create(path) as store:
        ids = fill_project(store)
        dataset = store.insert("datasets", {
            "name": HOSTILE, "dir": "datasets/h", "format": "txt", "sources": [f"/data/{IN_PATH}.txt"],
            "spec": {"name": HOSTILE}, "stats": {}, "train_chars": 900, "val_chars": 100, "documents": 3,
            "sha256": "3" * 64, "created": now_iso()})
        tokenizer = store.insert("tokenizers", {
            "name": HOSTILE, "kind": "char", "dataset_id": dataset, "vocab_size": 40, "dir": "tokenizers/h",
            "spec": {"name": HOSTILE, "kind": "char"}, "sha256": "4" * 64, "created": now_iso()})
        store.insert("runs", {
            "name": HOSTILE, "dataset_id": dataset, "tokenizer_id": tokenizer, "arch": "gpt2",
            "model_spec": {"arch": "gpt2", "n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 32},
            "train_spec": {"max_steps": 10}, "status": "failed", "step": 3, "dir": "runs/h",
            "message": f"the loss became nan in {HOSTILE}", "created": now_iso()})
        assert ids["poems"]  # the fixture's own "poems <b>bold</b>" dataset is there too
    return path


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox]:
    """Every question box, kept (not shown, it would block) and answered Yes."""
    kept: list[QMessageBox] = []

    def exec_box(box: QMessageBox) -> QMessageBox.StandardButton:
        kept.append(box)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(plain_text, "exec_box", exec_box)
    return kept



def shown_as_typed(box: QMessageBox) -> str:
    """The text the box's label shows, after checking that the label shows it literally."""
    label = box.findChild(QLabel, "qt_msgbox_label")
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert label is not None and label.textFormat() == Qt.TextFormat.PlainText
    return label.text()


def rendered_literally(tooltip: str) -> bool:
    """True when Qt shows `tooltip` as its own characters or as the escaped form of plain text."""
    return not GuiQt.mightBeRichText(tooltip) or tooltip == plain_tooltip(tooltip_text(tooltip))


def assert_everything_literal(*roots: QWidget) -> None:
    """Every label is plain (or holds nothing Qt would take for HTML); every tooltip is escaped."""
    for root in roots:
        widgets = [root, *root.findChildren(QWidget)]
        for widget in widgets:
            if isinstance(widget, QLabel) and widget.textFormat() != Qt.TextFormat.PlainText:
                assert not GuiQt.mightBeRichText(widget.text()), (widget.objectName(), widget.text())
            assert rendered_literally(widget.toolTip()), (widget.objectName(), widget.toolTip())
            for action in QWidget.actions(widget):  # MainWindow.actions is its Actions record
                assert rendered_literally(action.toolTip()), (action.objectName(), action.toolTip())
            if isinstance(widget, QComboBox):
                for i in range(widget.count()):
                    tip = widget.itemData(i, Qt.ItemDataRole.ToolTipRole)
                    assert tip is None or rendered_literally(tip), (widget.objectName(), tip)


def slow_import(store, sources, spec):
    """Stands in for the import job: runs until it is cancelled."""
    return counting(Probe(), None, 0.002)


def start_hostile_import(qtbot, window, monkeypatch, source: Path):
    from workbench.ui.jobs import dataset as dataset_jobs

    monkeypatch.setattr(dataset_jobs, "import_job", slow_import)
    job = window.data_jobs.start_import([source], DatasetSpec(name=HOSTILE))
    assert job is not None
    qtbot.waitUntil(lambda: job.is_active, timeout=10_000)
    return job


def test_the_quit_question_names_a_running_import_as_typed(qtbot, window, hostile_project, boxes, monkeypatch,
                                                           tmp_path):
    assert window.open_project(hostile_project)
    job = start_hostile_import(qtbot, window, monkeypatch, tmp_path / "any.txt")
    assert window.close()
    assert len(boxes) == 1
    text = shown_as_typed(boxes[0])
    assert text == f"Quit? Importing {HOSTILE} is still running: it will be cancelled, and nothing half-made is kept."
    assert not job.is_active


def test_the_import_dialog_shows_paths_and_names_as_typed(qtbot, window, hostile_project, tmp_path):
    folder = tmp_path / "<img src=x>"
    folder.mkdir()
    source = folder / "<b>bold.txt"
    source.write_text("Some text to import.\n" * 40, encoding="utf-8")
    assert window.open_project(hostile_project)
    dialog = window.panels.dataset.open_import_dialog([source])
    assert dialog is not None
    tip = dialog.source_label.toolTip()
    assert tip != str(source) and tooltip_text(tip) == str(source)  # escaped, and it reads back as the path
    assert dialog.source_label.textFormat() == Qt.TextFormat.PlainText
    dialog.name.edit.setText("poems <b>bold</b>")  # taken
    assert not dialog.ok_button.isEnabled() and dialog.name.message.textFormat() == Qt.TextFormat.PlainText
    assert_everything_literal(window, dialog)
    dialog.reject()

    binary = folder / "<b>data.bin"
    binary.write_bytes(bytes([0, 1, 0, 2]) * 500)
    dialog = window.panels.dataset.open_import_dialog([binary])
    assert not dialog.ok_button.isEnabled()
    reason = tooltip_text(dialog.ok_button.toolTip())  # the preview's error quotes the file's name
    assert "<b>data.bin" in reason and "NUL bytes" in reason, reason
    assert_everything_literal(window, dialog)
    dialog.reject()


def test_tables_combos_status_and_title_show_names_as_typed(qtbot, window, hostile_project):
    assert window.open_project(hostile_project)
    datasets = window.panels.dataset.datasets
    assert HOSTILE in [datasets.cell_text(r, 0) for r in range(datasets.rowCount())]
    tokenizers = window.panels.dataset.tokenizers
    assert HOSTILE in [tokenizers.cell_text(r, 0) for r in range(tokenizers.rowCount())]
    runs = window.panels.training.runs
    assert HOSTILE in [runs.cell_text(r, 0) for r in range(runs.rowCount())]
    attention_runs = window.panels.attention.run
    assert any(attention_runs.itemText(i).startswith(HOSTILE) for i in range(attention_runs.count()))
    assert window.windowTitle().startswith(IN_PATH)
    assert window.status.project_label.text() == f"Project: {IN_PATH}.wbproj"
    window.status.showMessage(f"Imported dataset {HOSTILE!r}.")
    assert window.status.currentMessage() == f"Imported dataset {HOSTILE!r}."  # a status message is painted as plain text
    runs.select_key(window.store.get_run(HOSTILE)["id"])
    assert HOSTILE in window.panels.training.info.text()
    assert_everything_literal(window)


def test_error_dialogs_and_questions_are_plain(qtbot, boxes):
    box = errors.build_error_box(None, f"no run named {HOSTILE}; see <a href=x>this</a>", "details <b>x</b>")
    qtbot.addWidget(box)
    assert shown_as_typed(box) == f"no run named {HOSTILE}; see <a href=x>this</a>"
    assert box.findChild(QLabel, "qt_msgbox_informativelabel").textFormat() == Qt.TextFormat.PlainText
    assert plain_text.ask_yes_no(None, "Title", f"Delete {HOSTILE}?")
    assert shown_as_typed(boxes[0]) == f"Delete {HOSTILE}?"


@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support propagateSizeHints")
def test_a_token_tooltip_shows_the_token_as_typed(qtbot):
    view = TokenView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.show()
    qtbot.waitExposed(view)
    view.set_tokens([5, 6], ["<b>bold</b>", "<img src=x>"])
    center = view.token_rect(1).center()
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, center, view.viewport().mapToGlobal(center)))
    shown = QToolTip.text()
    QToolTip.hideText()
    assert rendered_literally(shown)
    assert tooltip_text(shown).endswith("\n<img src=x>")


@pytest.mark.parametrize("text", ["<b>x</b>", "<img src=x> tail\n  two  spaces", "a &lt; b", "x\n\n\ny <b>"])
def test_plain_tooltip_round_trips(text):
    tip = plain_tooltip(text)
    assert tooltip_text(tip) == text
    assert rendered_literally(tip)


def test_plain_tooltip_leaves_ordinary_text_alone():
    assert plain_tooltip("Stop; nothing half-made is kept") == "Stop; nothing half-made is kept"
    assert plain_tooltip("loss < 2 (best)") == "loss < 2 (best)"  # no tag: Qt shows it plain already


def test_screenshots_of_hostile_names(qtbot, window, hostile_project, boxes, monkeypatch, tmp_path, shots):
    """The quit question over the window, and the import dialog, at 1366x768 in light and dark."""
    app = QApplication.instance()
    assert window.open_project(hostile_project)
    window.resize(1366, 768)
    folder = tmp_path / "<img src=x>"
    folder.mkdir()
    source = folder / "<b>bold.txt"
    source.write_text("Some text to import.\n" * 40, encoding="utf-8")
    try:
        for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
            theme.apply_color_scheme(app, scheme)
            dialog = window.panels.dataset.open_import_dialog([source])
            dialog.name.edit.setText(HOSTILE)
            qtbot.waitExposed(dialog)
            qtbot.wait(50)
            assert over_window(window, dialog).save(str(shots / f"import_dialog_{name}.png"))
            dialog.reject()
            job = start_hostile_import(qtbot, window, monkeypatch, source)
            window._stop_jobs_if_confirmed("Quit")
            box = boxes[-1]
            qtbot.addWidget(box)
            box.show()
            qtbot.waitExposed(box)
            qtbot.wait(50)
            assert over_window(window, box).save(str(shots / f"quit_question_{name}.png"))
            box.close()
            qtbot.waitUntil(lambda job=job: not job.is_active, timeout=10_000)
    finally:
        theme.apply_color_scheme(app, Qt.ColorScheme.Light)


def over_window(window: QWidget, dialog: QWidget) -> QPixmap:
    """The window with `dialog` drawn centred over it, as a user would see them."""
    picture = window.grab()
    painter = QPainter(picture)
    inner = dialog.grab()
    painter.drawPixmap(QPoint((picture.width() - inner.width()) // 2, (picture.height() - inner.height()) // 2), inner)
    painter.end()
    return picture
