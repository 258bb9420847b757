"""The dataset panel: the project's datasets with their statistics, the built-in samples, and the
tokenizers with a lab to try them on text.

It never starts work itself: it asks through signals (the main window runs the jobs) and shows
the progress it is given. Files or folders dropped on it open the import dialog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import ProjectStore
from workbench.ui.panels.dataset.import_dialog import ImportDialog
from workbench.ui.panels.dataset.job_bar import JobBar
from workbench.ui.panels.dataset.name_field import free_name
from workbench.ui.panels.dataset.stats_view import DatasetStatsView
from workbench.ui.panels.dataset.tokenizer_form import TokenizerForm
from workbench.ui.read_only import read_only_reason
from workbench.ui.widgets.forms import human_count, plain_label, section_title, set_available
from workbench.ui.widgets.record_table import RecordTable
from workbench.ui.widgets.sample_gallery import SampleGallery
from workbench.ui.widgets.tokenizer_lab import TokenizerLab

SAMPLE_TEXT_CHARS = 1500  # the lab's text starts as this much of the selected dataset



def dropped_paths(mime: QMimeData) -> list[str]:
    """The local files and folders in a drag, in order; [] when it carries none."""
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class DatasetPanel(QWidget):
    """objectName `datasetPanel`. Asks for work through signals; the main window runs it."""

    importRequested = Signal()  # choose files to import
    importConfirmed = Signal(object, object)  # sources (list of paths), DatasetSpec
    sampleRequested = Signal(str, str)  # sample key, dataset name
    tokenizerRequested = Signal(str, object)  # dataset name, TokenizerSpec
    encodeRequested = Signal(str, int, str)  # lab column, tokenizer id, text
    cancelRequested = Signal()
    importAvailabilityChanged = Signal(bool, str)  # whether importing is possible now, else why not
    datasetSelected = Signal(object)  # dataset id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self.setAcceptDrops(True)
        self._store: ProjectStore | None = None
        self._rows: dict[int, dict[str, Any]] = {}
        self._import_missing = ""  # why not, when the warm-up cannot load the engine
        self.import_dialog: ImportDialog | None = None
        self.datasets = RecordTable(("Name", "Train", "Validation", "Documents", "Format"),
                                    "No datasets yet. Import a file, drop one here, or pick a sample.")
        self.datasets.setObjectName("datasetTable")
        self.stats = DatasetStatsView()
        self.gallery = SampleGallery()
        self.tokenizers = RecordTable(("Name", "Kind", "Vocabulary", "Trained on"),
                                      "No tokenizers yet. Make one from a dataset below.")
        self.tokenizers.setObjectName("tokenizerTable")
        self.tokenizer_form = TokenizerForm()
        self.lab = TokenizerLab()
        self.import_button = QPushButton("Import Data…")
        self.import_button.setObjectName("importButton")
        self.summary = plain_label("No project is open.")
        self.summary.setObjectName("datasetSummary")
        self.job_bar = JobBar()
        self.cancel_button = self.job_bar.cancel_button
        self.tabs = QTabWidget()
        self.tabs.setObjectName("datasetTabs")
        self.tabs.setDocumentMode(True)
        self._build_layout()

        self.import_button.clicked.connect(self.importRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.datasets.keySelected.connect(self._dataset_selected)
        self.gallery.sampleRequested.connect(self._sample_clicked)
        self.tokenizer_form.trainRequested.connect(self.tokenizerRequested)
        self.lab.encodeRequested.connect(self.encodeRequested)
        self.lab.sampleResetRequested.connect(self._reset_sample_text)
        self.end_job()

    def _build_layout(self) -> None:
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.datasets)
        split.addWidget(self.stats)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([95, 600])  # three rows of datasets; the statistics need the room (drag for more)
        self.tabs.addTab(split, "Datasets")
        self.tabs.addTab(self.gallery, "Samples")
        tokens = QWidget()
        tokens_layout = QVBoxLayout(tokens)
        tokens_layout.addWidget(section_title("Tokenizers"))
        tokens_layout.addWidget(self.tokenizers)
        tokens_layout.addWidget(self.tokenizer_form)
        tokens_layout.addWidget(self.lab, 1)
        self.lab.setMinimumHeight(300)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(tokens)
        self.tabs.addTab(scroll, "Tokenizers")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.job_bar)
        layout.addLayout(buttons)

    # ---- availability --------------------------------------------------------------------------

    def set_import_available(self, available: bool, reason: str = "") -> None:
        self._import_missing = "" if available else reason
        self._update_buttons()

    def _blocked(self) -> str:
        if self._import_missing:
            return self._import_missing
        if self._store is None:
            return "Open or create a project first."
        if self._store.read_only:
            return read_only_reason(self._store, "Importing data or making a tokenizer")
        busy = self.job_bar.title
        return f"Wait for {busy} to finish, or cancel it." if busy else ""

    def _update_buttons(self) -> None:
        reason = self._blocked()
        set_available(self.import_button, not reason, reason,
                      "Import text files (txt, md, jsonl, csv, parquet) or a folder into this project; "
                      "you can also drop them here")
        self.gallery.set_available(not reason, reason)
        self.tokenizer_form.set_blocked(reason)
        self.importAvailabilityChanged.emit(not reason, reason)

    # ---- the project ---------------------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        if store is not self._store:
            self.lab.set_sample_text("", force=True)  # the next selected dataset fills it again
        self._store = store
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        store = self._store
        datasets = store.list_datasets() if store else []
        tokenizers = store.list_tokenizers() if store else []
        self._rows = {d["id"]: d for d in datasets}
        names = {d["id"]: d["name"] for d in datasets}
        self.datasets.set_records([(d["id"], _dataset_cells(d)) for d in datasets])
        self.tokenizers.set_records([(t["id"], (t["name"], t["kind"], t["vocab_size"],
                                                names.get(t["dataset_id"], "-"))) for t in tokenizers])
        self._fit_tokenizer_table()
        self.tokenizer_form.set_datasets([d["name"] for d in datasets], self._selected_name())
        self.tokenizer_form.set_taken_names(t["name"] for t in tokenizers)
        self.lab.set_tokenizers([(t["id"], f"{t['name']}  ({t['kind']}, {t['vocab_size']:,})") for t in tokenizers])
        if self.import_dialog is not None:
            self.import_dialog.set_taken_names(self.dataset_names())
        if store is None:
            self.summary.setText("No project is open.")
        else:
            self.summary.setText(f"{len(datasets)} dataset{'s' * (len(datasets) != 1)}, "
                                 f"{len(tokenizers)} tokenizer{'s' * (len(tokenizers) != 1)}")

    def _fit_tokenizer_table(self) -> None:
        """As tall as its rows (two to five shown): the lab below needs the height more."""
        table = self.tokenizers
        rows = min(max(table.rowCount(), 2), 5)
        row_height = table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows * row_height + 2 * table.frameWidth())

    def dataset_names(self) -> list[str]:
        return [row["name"] for row in self._rows.values()]

    def select_dataset(self, dataset_id: int) -> None:
        self.datasets.select_key(dataset_id)

    def _selected_name(self) -> str | None:
        row = self._rows.get(self.datasets.selected_key())
        return row["name"] if row else None

    @Slot(object)
    def _dataset_selected(self, key: Any) -> None:
        row = self._rows.get(key)
        self.stats.show_dataset(row)
        if row is not None:
            self.tokenizer_form.select_dataset(row["name"])
            self.lab.set_sample_text(self._dataset_start(row))
        self.datasetSelected.emit(key)

    def _dataset_start(self, row: dict[str, Any]) -> str:
        """The first characters of the dataset's training text (a small read)."""
        if self._store is None:
            return ""
        try:
            path = self._store.path(row["dir"], "train.txt", what=f"train.txt of dataset {row['name']!r}")
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read(SAMPLE_TEXT_CHARS)
        except (OSError, WorkbenchError):  # WorkbenchError: a path outside the project is not read
            return ""

    @Slot()
    def _reset_sample_text(self) -> None:
        row = self._rows.get(self.datasets.selected_key())
        self.lab.set_sample_text(self._dataset_start(row) if row else "", force=True)

    # ---- importing -----------------------------------------------------------------------------

    def open_import_dialog(self, paths: Sequence[str | Path]) -> ImportDialog | None:
        """Show the import dialog for `paths` (window-modal, not blocking); None when importing is not possible."""
        if not paths or self._blocked():
            return None
        if self.import_dialog is not None:
            self.import_dialog.close()
        dialog = ImportDialog(paths, self.dataset_names(), self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._import_accepted)
        dialog.finished.connect(self._import_dialog_closed)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def _import_accepted(self) -> None:
        dialog = self.sender()
        if isinstance(dialog, ImportDialog):
            self.importConfirmed.emit(list(dialog.sources), dialog.spec())

    @Slot()
    def _import_dialog_closed(self) -> None:
        if self.sender() is self.import_dialog:
            self.import_dialog = None

    @Slot(str)
    def _sample_clicked(self, key: str) -> None:
        self.sampleRequested.emit(key, free_name(key, self.dataset_names()))

    def handle_drop(self, mime: QMimeData) -> bool:
        """Open the import dialog for dropped files or folders; False when there are none."""
        paths = dropped_paths(mime)
        return bool(paths) and self.open_import_dialog(paths) is not None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event.mimeData()) and not self._blocked():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.handle_drop(event.mimeData()):
            event.acceptProposedAction()

    # ---- jobs ----------------------------------------------------------------------------------

    def begin_job(self, title: str) -> None:
        self.job_bar.begin(title)
        self._update_buttons()

    def show_job_events(self, events: Iterable[Any]) -> None:
        self.job_bar.show_events(events)

    def end_job(self) -> None:
        self.job_bar.end()
        self._update_buttons()

    def is_busy(self) -> bool:
        return bool(self.job_bar.title)

    # ---- the tokenizer lab's answers -----------------------------------------------------------

    def show_encoding(self, slot: str, text: str, result: Any) -> bool:
        return self.lab.show_encoding(slot, text, result)

    def show_encoding_failure(self, slot: str, tokenizer_id: int, text: str, message: str) -> None:
        self.lab.show_failure(slot, tokenizer_id, text, message)

    def tokenizer_id(self, name: str) -> int | None:
        """The id of the tokenizer called `name` in the table, if it is there."""
        for row, key in enumerate(self.tokenizers.keys()):
            if self.tokenizers.cell_text(row, 0) == name:
                return int(key)
        return None

def _dataset_cells(row: dict[str, Any]) -> tuple:
    return (row["name"], human_count(row["train_chars"], " chars"), human_count(row["val_chars"], " chars"),
            row["documents"], row["format"])
