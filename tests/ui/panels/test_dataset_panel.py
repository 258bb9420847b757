"""The dataset panel driven as a user would: the import dialog, progress and Cancel, drag and drop,
the sample gallery, and the statistics of what was imported. Real files under tmp_path; the core
does the real work (a spy only records what it was asked)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from workbench.core.base.events import Progress
from workbench.core.project.store import ProjectStore

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

WAIT_MS = 60_000


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    path = tmp_path / "data.wbproj"
    ProjectStore.create(path).close()
    return path


@pytest.fixture
def core_imports(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], object, object]]:
    """Records (sources, DatasetSpec, sample key) of every `catalog.import_into_project` call."""
    from workbench.core.ops import catalog

    calls: list[tuple[list[str], object, object]] = []
    real = catalog.import_into_project

    def spy(store, sources, spec, sample_key=None):
        calls.append(([str(s) for s in sources], spec, sample_key))
        return (yield from real(store, sources, spec, sample_key=sample_key))

    monkeypatch.setattr(catalog, "import_into_project", spy)
    return calls


def write_jsonl(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": i, "body": f"Note {i}: the cat sat on mat number {i * 7}.\r\nSecond line."}) + "\n")
    return path


def wait_idle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=WAIT_MS)


def file_drop(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def test_import_jsonl_through_the_dialog(qtbot, window, empty_project, tmp_path, monkeypatch, core_imports,
                                         shown_errors):
    source = write_jsonl(tmp_path / "notes.jsonl", 40)
    assert window.open_project(empty_project)
    panel = window.panels.dataset
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(source)], "")))
    qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)

    dialog = panel.import_dialog
    assert dialog is not None and dialog.isVisible() and not panel.is_busy()  # the dialog does not block
    assert dialog.format.currentData() == "jsonl"
    assert [dialog.field.itemText(i) for i in range(dialog.field.count())] == ["id", "body"]
    assert dialog.encoding.text().startswith("utf-8")
    assert dialog.name.text() == "notes" and dialog.ok_button.isEnabled()
    dialog.field.setCurrentIndex(dialog.field.findText("body"))
    assert dialog.records_shown()[0] == "Note 0: the cat sat on mat number 0.\nSecond line."  # \r\n normalised
    dialog.nfc.setChecked(False)
    dialog.strip.setChecked(True)
    dialog.val_fraction.setValue(25.0)
    dialog.seed.setValue(7)
    dialog.name.edit.setText("cat notes")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert panel.is_busy() and panel.cancel_button.isVisible() and not panel.import_button.isEnabled()
    wait_idle(qtbot, panel)

    assert shown_errors == []
    [(sources, spec, sample)] = core_imports
    assert sources == [str(source)] and sample is None
    assert (spec.name, spec.format, spec.field, spec.val_fraction, spec.seed) == ("cat notes", "jsonl", "body", 0.25, 7)
    assert (spec.nfc, spec.strip, spec.normalize_newlines, spec.replace_invalid) == (False, True, True, False)
    row = window.store.get_dataset("cat notes")
    assert row["documents"] == 40 and row["stats"]["val_documents"] == 10
    assert panel.datasets.cell_text(0, 0) == "cat notes" and panel.datasets.selected_key() == row["id"]
    summary = panel.stats.summary_text()
    assert summary["Documents"].startswith("40 in 80 lines")
    assert "30 train / 10 validation" in summary["Split"]
    labels, counts = panel.stats.characters_chart.bars()
    assert labels[0] == "·" and counts[0] == row["stats"]["top_characters"][0][1]  # space is the commonest
    assert sum(panel.stats.lengths_chart.bars()[1]) == 40
    assert "Only" in " ".join(panel.stats.warning_texts)  # a tiny dataset is worth a warning
    assert window.panels.model.dataset.findText("cat notes") >= 0  # the other panels were refreshed
    assert not panel.cancel_button.isVisible() and panel.import_button.isEnabled()


def test_name_validation_disables_import(qtbot, window, project, tmp_path):
    source = tmp_path / "story.txt"
    source.write_text("Once upon a time.\n" * 20, encoding="utf-8")
    assert window.open_project(project)  # has a dataset called "shakespeare"
    dialog = window.panels.dataset.open_import_dialog([source])
    assert dialog.ok_button.isEnabled() and dialog.field.isEnabled() is False
    assert dialog.records_shown() == ["Once upon a time.\n" * 19 + "Once upon a time.\n"]
    dialog.name.edit.setText("   ")
    assert not dialog.ok_button.isEnabled() and "Enter a name" in dialog.name.message.text()
    assert dialog.name.message.isVisibleTo(dialog)
    dialog.name.edit.setText("shakespeare")
    assert not dialog.ok_button.isEnabled() and "already exists" in dialog.ok_button.toolTip()
    dialog.name.edit.setText("story")
    assert dialog.ok_button.isEnabled() and not dialog.name.message.isVisibleTo(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("parquet"))  # not a Parquet file: explained, refused
    assert not dialog.ok_button.isEnabled() and "Parquet" in dialog.notes.text()
    dialog.format.setCurrentIndex(dialog.format.findData("txt"))
    assert dialog.ok_button.isEnabled()
    dialog.reject()


def hold_at_first_progress(real, folder: Path):
    """Wrap a core generator function: at its first `Progress` it records the files under `folder`
    (its partial output) and waits for `release`, so a test can click Cancel without racing it."""
    reached, release = threading.Event(), threading.Event()
    partial: list[Path] = []

    def held(*args, **kwargs):
        inner = real(*args, **kwargs)
        try:
            event = next(inner)
            while True:
                yield event
                if isinstance(event, Progress) and not reached.is_set():
                    partial.extend(p for p in folder.rglob("*") if p.is_file())
                    reached.set()
                    release.wait(30)
                event = next(inner)
        except StopIteration as done:
            return done.value
        finally:
            inner.close()  # closing `held` closes the core generator: its clean-up runs

    return held, reached, release, partial


def test_cancelling_an_import_leaves_the_project_unchanged(qtbot, window, empty_project, tmp_path, monkeypatch,
                                                           shown_errors):
    """A 3 MB file, held at its first progress report (partial output on disk) until Cancel is clicked."""
    from workbench.core.ops import catalog

    source = tmp_path / "big.txt"
    source.write_text("".join(f"Paragraph {i} with some words in it.\n\n" for i in range(80_000)), encoding="utf-8")
    assert source.stat().st_size > 3_000_000
    held, reached, release, partial = hold_at_first_progress(catalog.import_into_project, empty_project / "datasets")
    monkeypatch.setattr(catalog, "import_into_project", held)
    assert window.open_project(empty_project)
    panel = window.panels.dataset
    dialog = panel.open_import_dialog([source])
    dialog.accept()
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    assert partial, "the import had written nothing yet"
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelling" in panel.job_bar.label.text() and not panel.cancel_button.isEnabled()
    release.set()
    wait_idle(qtbot, panel)

    assert shown_errors == []
    assert window.store.list_datasets() == [] and panel.datasets.rowCount() == 0
    assert [p for p in (empty_project / "datasets").rglob("*")] == []
    assert "cancelled" in window.status.currentMessage()
    assert panel.import_button.isEnabled()


def test_cancelling_a_tokenizer_keeps_nothing(qtbot, window, empty_project, tmp_path, monkeypatch, shown_errors):
    from workbench.core.base.specs import DatasetSpec
    from workbench.core.ops import catalog

    source = tmp_path / "text.txt"
    source.write_text("".join(f"line {i} of a text to tokenize\n" for i in range(100_000)), encoding="utf-8")
    with ProjectStore.open(empty_project) as store:
        gen = catalog.import_into_project(store, [source], DatasetSpec(name="text"))
        for _event in gen:
            pass
    held, reached, release, partial = hold_at_first_progress(catalog.create_tokenizer, empty_project / "tokenizers")
    monkeypatch.setattr(catalog, "create_tokenizer", held)
    assert window.open_project(empty_project)
    panel = window.panels.dataset
    form = panel.tokenizer_form
    form.kind.setCurrentIndex(form.kind.findData("bpe"))
    form.vocab_size.setValue(400)
    assert form.request()
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    wait_idle(qtbot, panel)
    assert shown_errors == []
    assert window.store.list_tokenizers() == [] and panel.tokenizers.rowCount() == 0
    assert [p for p in (empty_project / "tokenizers").rglob("*")] == []
    assert form.train_button.isEnabled()


def test_a_failed_import_is_explained_and_keeps_nothing(qtbot, window, empty_project, tmp_path, shown_errors):
    source = write_jsonl(tmp_path / "broken.jsonl", 30)
    with open(source, "a", encoding="utf-8") as fh:
        fh.write('{"body": "no closing brace"\n')  # past what the preview reads
    assert window.open_project(empty_project)
    panel = window.panels.dataset
    dialog = panel.open_import_dialog([source])
    dialog.field.setCurrentIndex(dialog.field.findText("body"))
    assert dialog.ok_button.isEnabled()
    dialog.accept()
    wait_idle(qtbot, panel)
    assert len(shown_errors) == 1 and "line 31" in shown_errors[0][0]
    assert window.store.list_datasets() == [] and [p for p in (empty_project / "datasets").rglob("*")] == []
    assert panel.import_button.isEnabled()


def drag_and_drop(widget, mime: QMimeData) -> bool:
    """What a drag does: enter (which must be accepted, else Qt never delivers the drop), then drop."""
    point = QPoint(10, 10)
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def test_drop_files_and_folders(qtbot, window, empty_project, tmp_path, core_imports, shown_errors):
    folder = tmp_path / "poems"
    folder.mkdir()
    (folder / "a.txt").write_text("Roses are red.\nViolets are blue.\n", encoding="utf-8")
    (folder / "b.md").write_text("# Haiku\n\nAn old silent pond.\n", encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    panel = window.panels.dataset
    mime = file_drop([folder])  # kept referenced: the events do not own it
    assert not drag_and_drop(window, mime)  # no project: nothing to import into
    assert window.open_project(empty_project)
    no_files = QMimeData()
    no_files.setText("just text")
    assert not drag_and_drop(panel, no_files)

    assert drag_and_drop(window, mime)  # on the window, outside the panel: the same dialog
    dialog = panel.import_dialog
    assert dialog is not None and dialog.sources == [str(folder)]
    assert dialog.format.currentData() == "folder" and dialog.name.text() == "poems"
    dialog.val_fraction.setValue(0.0)
    dialog.accept()
    wait_idle(qtbot, panel)
    assert shown_errors == []
    [(_sources, spec, _sample)] = core_imports
    assert spec.format == "folder" and spec.val_fraction == 0.0
    row = window.store.get_dataset("poems")
    assert row["documents"] == 2
    assert any("no validation split" in text for text in panel.stats.warning_texts)

    single = tmp_path / "one.txt"
    single.write_text("A single file dropped on the panel itself.", encoding="utf-8")
    mime_single = file_drop([single])
    assert drag_and_drop(panel, mime_single)
    assert panel.import_dialog is not None and panel.import_dialog.sources == [str(single)]
    panel.import_dialog.reject()


def test_import_a_sample_from_the_gallery(qtbot, window, empty_project, core_imports, shown_errors):
    from workbench.core.samples.builtin import SAMPLES

    assert window.open_project(empty_project)
    panel = window.panels.dataset
    assert set(panel.gallery.cards) == set(SAMPLES)
    card = panel.gallery.cards["addition"]
    panel.tabs.setCurrentWidget(panel.gallery)
    qtbot.mouseClick(card.button, Qt.MouseButton.LeftButton)
    assert not card.button.isEnabled()  # one data job at a time
    wait_idle(qtbot, panel)
    assert shown_errors == []
    [(_sources, spec, sample)] = core_imports
    assert (spec.name, sample) == ("addition", "addition")
    row = window.store.get_dataset("addition")
    assert row["sample"] == "addition" and panel.datasets.selected_key() == row["id"]
    assert "built-in sample addition" in panel.stats.summary_text()["Format"]
    assert card.button.isEnabled()
    qtbot.mouseClick(card.button, Qt.MouseButton.LeftButton)  # again: a free name, not an error
    wait_idle(qtbot, panel)
    assert shown_errors == [] and window.store.get_dataset("addition-2")["sample"] == "addition"


def test_file_menu_and_availability(qtbot, window, empty_project, tmp_path, monkeypatch):
    action = window.data_jobs.import_action
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions() and window.data_jobs.import_folder_action in file_menu.actions()
    assert not action.isEnabled()  # no project yet
    assert window.open_project(empty_project)
    assert action.isEnabled()
    source = write_jsonl(tmp_path / "menu.jsonl", 3)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(source)], "")))
    action.trigger()
    assert window.panels.dataset.import_dialog.sources == [str(source)]
    window.panels.dataset.import_dialog.reject()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(tmp_path)))
    window.data_jobs.import_folder_action.trigger()
    assert window.panels.dataset.import_dialog.sources == [str(tmp_path)]


def test_warnings_from_statistics():
    from workbench.ui.panels.dataset.warnings import dataset_warnings

    stats = {"documents": 100, "characters": 500_000, "split": "documents", "empty_documents_dropped": 2,
             "duplicates": {"documents": 5, "examples": [{"text": "same\nline", "count": 6}]},
             "train_val_overlap": {"documents": 2, "examples": [{"text": "shared"}]},
             "document_length": {"min": 3, "mean": 1000.0, "max": 80_000,
                                 "histogram": {"edges": [3, 10, 21, 100, 80_001], "counts": [4, 6, 40, 50]}}}
    found = {w.key: w.text for w in dataset_warnings(stats)}
    assert set(found) == {"duplicates", "overlap", "short", "long", "dropped"}
    assert "“same⏎line” ×6" in found["duplicates"] and found["short"].startswith("4 documents")
    assert "80,000 characters, 80× the mean" in found["long"]
    assert dataset_warnings({}) == []


def test_warnings_for_skipped_files_and_a_lopsided_split():
    from workbench.ui.panels.dataset.warnings import dataset_warnings

    stats = {"documents": 2, "characters": 40_000, "split": "documents", "val_fraction_requested": 0.1,
             "train_chars": 20_000, "val_chars": 20_000, "skipped_count": 6,
             "skipped": [{"path": f"/data/img{i}.png", "reason": "not a text file type (.png); folders supply ..."}
                         for i in range(6)]}
    found = {w.key: w for w in dataset_warnings(stats)}
    assert "validation holds 50%" in found["uneven-split"].text.lower()
    assert found["skipped"].text.startswith("6 files were skipped (img0.png, img1.png, img2.png, img3.png, …)")
    assert "/data/" not in found["skipped"].text and found["skipped"].level == "info"
    balanced = {**stats, "train_chars": 36_000, "val_chars": 4_000, "skipped_count": 0}
    assert not {"uneven-split", "skipped"} & {w.key for w in dataset_warnings(balanced)}
