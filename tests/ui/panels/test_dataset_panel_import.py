"""The import dialog on files that are not UTF-8 text (issue 10, defect 7): binary and blank files
are refused in the window's words, and a Windows-1252 file is read exactly once its encoding is chosen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from workbench.core.project.store import ProjectStore

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

WESTERN = "Café déjà vu — “quoted” naïve façade, 5 €\nSecond line: Ärger über Öl.\n"


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    path = tmp_path / "data.wbproj"
    ProjectStore.create(path).close()
    return path


def open_dialog(window, project: Path, source: Path):
    assert window.open_project(project)
    dialog = window.panels.dataset.open_import_dialog([source])
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_a_cp1252_file_is_read_in_the_chosen_encoding(qtbot, window, empty_project, tmp_path, shown_errors):
    source = tmp_path / "western.txt"
    source.write_bytes(WESTERN.encode("cp1252") * 30)
    dialog = open_dialog(window, empty_project, source)
    combo = dialog.encoding_choice
    assert combo.objectName() == "importEncodingCombo" and combo.currentData() == "auto"
    note = dialog.notes.text()
    assert "is not valid UTF-8" in note and "choose Encoding: Windows-1252 (cp1252)" in note, note
    assert "--" not in note  # no command-line flags in the window
    assert combo.findText("Windows-1252 (cp1252)") >= 0  # the advice names an item as the list shows it
    assert not dialog.ok_button.isEnabled() and dialog.records_shown() == []

    combo.setCurrentIndex(combo.findData("cp1252"))  # the preview re-reads the start in cp1252
    assert dialog.records_shown()[0].startswith("Café déjà vu — “quoted” naïve façade, 5 €\nSecond line: Ärger")
    assert "\ufffd" not in dialog.preview.toPlainText()
    assert dialog.encoding.text().startswith("cp1252") and not dialog.notes.isVisible()
    assert dialog.ok_button.isEnabled()
    dialog.val_fraction.setValue(0.0)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    panel = window.panels.dataset
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60_000)
    assert shown_errors == []
    row = window.store.get_dataset("western")
    assert row["spec"]["encoding"] == "cp1252"
    assert (window.store.path(row["dir"]) / "train.txt").read_text(encoding="utf-8") == WESTERN * 30


@pytest.mark.parametrize(("raw", "words"), [
    (b"\x7fELF\x02\x01\x01" + bytes(3000), "it is a program (ELF executable), not text"),
    (bytes([0, 1, 0, 2, 0, 3]) * 500, "it contains NUL bytes, so it is binary data, not text"),
    (b"\x89PNG\r\n\x1a\n" + bytes(500), "it is a PNG image, not text"),
    (b"  \n\t\r\n   \n", "it holds only whitespace"),
])
def test_binary_and_blank_files_are_refused_in_the_dialog(qtbot, window, empty_project, tmp_path, raw, words):
    source = tmp_path / "file.txt"
    source.write_bytes(raw)
    dialog = open_dialog(window, empty_project, source)
    assert words in dialog.notes.text() and "UTF-16" not in dialog.notes.text()
    assert not dialog.ok_button.isEnabled() and words in dialog.ok_button.toolTip()
    dialog.encoding_choice.setCurrentIndex(dialog.encoding_choice.findData("latin-1"))  # no encoding makes it text
    assert not dialog.ok_button.isEnabled()
    dialog.reject()


def test_utf16_without_bom_is_advised_in_the_windows_words(qtbot, window, empty_project, tmp_path):
    source = tmp_path / "u16.txt"
    source.write_bytes(WESTERN.encode("utf-16-le") * 10)
    dialog = open_dialog(window, empty_project, source)
    assert "choose Encoding: UTF-16 LE (utf-16-le)" in dialog.notes.text()
    dialog.encoding_choice.setCurrentIndex(dialog.encoding_choice.findText("UTF-16 LE (utf-16-le)"))
    assert dialog.records_shown()[0].startswith("Café déjà vu") and dialog.ok_button.isEnabled()
    assert dialog.spec().encoding == "utf-16-le"
    dialog.reject()


def test_a_bad_byte_past_the_preview_is_explained_in_the_windows_words(qtbot, window, empty_project, tmp_path,
                                                                       shown_errors):
    source = tmp_path / "late.txt"
    source.write_bytes(b"plain ascii line\n" * 5000 + WESTERN.encode("cp1252"))  # past the 64 kB preview
    dialog = open_dialog(window, empty_project, source)
    assert dialog.ok_button.isEnabled()
    dialog.accept()
    panel = window.panels.dataset
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=60_000)
    [(message, *_)] = shown_errors
    assert "byte 0xe9 at byte offset 85003 (line 5001) is not valid UTF-8" in message
    assert "choose Encoding: Windows-1252 (cp1252)" in message and "--" not in message, message
    assert window.store.list_datasets() == []
