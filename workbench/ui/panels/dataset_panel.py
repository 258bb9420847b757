"""The dataset panel: the project's datasets and tokenizers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from workbench.core.store import ProjectStore
from workbench.ui.widgets.forms import human_count, plain_label, section_title, set_available
from workbench.ui.widgets.record_table import RecordTable


class DatasetPanel(QWidget):
    """objectName `datasetPanel`. Emits `importRequested` when the user asks to import text."""

    importRequested = Signal()
    datasetSelected = Signal(object)  # dataset id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self._store: ProjectStore | None = None
        self._import_missing = "Looking for the import code…"
        self.datasets = RecordTable(("Name", "Train", "Validation", "Documents", "Format"),
                                    "No datasets yet. Import a text file to start.")
        self.datasets.setObjectName("datasetTable")
        self.tokenizers = RecordTable(("Name", "Kind", "Vocabulary", "Trained on"),
                                      "No tokenizers yet. Make one from a dataset.")
        self.tokenizers.setObjectName("tokenizerTable")
        self.import_button = QPushButton("Import Text…")
        self.import_button.setObjectName("importButton")
        self.import_button.clicked.connect(self.importRequested)
        self.summary = plain_label("No project is open.")
        self.summary.setObjectName("datasetSummary")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(section_title("Datasets"))
        top_layout.addWidget(self.datasets)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(section_title("Tokenizers"))
        bottom_layout.addWidget(self.tokenizers)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setChildrenCollapsible(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.datasets.keySelected.connect(self.datasetSelected)
        self._update_import_button()

    def set_import_available(self, available: bool, reason: str = "") -> None:
        self._import_missing = "" if available else reason
        self._update_import_button()

    def _update_import_button(self) -> None:
        reason = self._import_missing or ("" if self._store else "Open or create a project first.")
        set_available(self.import_button, not reason, reason,
                      "Import a text file (txt, md, jsonl, csv, parquet or a folder) into this project")

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self._update_import_button()
        self.refresh()

    def refresh(self) -> None:
        store = self._store
        datasets = store.list_datasets() if store else []
        tokenizers = store.list_tokenizers() if store else []
        names = {d["id"]: d["name"] for d in datasets}
        self.datasets.set_records([(d["id"], _dataset_cells(d)) for d in datasets])
        self.tokenizers.set_records([(t["id"], (t["name"], t["kind"], t["vocab_size"],
                                                names.get(t["dataset_id"], "-"))) for t in tokenizers])
        if store is None:
            self.summary.setText("No project is open.")
        else:
            self.summary.setText(f"{len(datasets)} dataset{'s' * (len(datasets) != 1)}, "
                                 f"{len(tokenizers)} tokenizer{'s' * (len(tokenizers) != 1)}")


def _dataset_cells(row: dict[str, Any]) -> tuple:
    return (row["name"], human_count(row["train_chars"], " chars"), human_count(row["val_chars"], " chars"),
            row["documents"], row["format"])
