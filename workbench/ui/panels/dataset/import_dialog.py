"""The import dialog: what will be read from the chosen files, how it is cleaned and split, and its name.

It shows the detected format (which the user may change), the field or column to read for JSONL,
CSV and Parquet, the first records as they will be imported (plain text) and the file's encoding,
which the user may name when it is not UTF-8 (the preview then re-reads the start in it).
The preview reads only the start of the files (`workbench.core.data.importer.preview`), so it runs
here, in the GUI thread; the import itself runs as a job once the dialog is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.specs import DatasetSpec
from workbench.ui.panels.dataset.encoding_choice import encoding_combo
from workbench.ui.panels.dataset.name_field import NameField, error_color, free_name
from workbench.ui.widgets.forms import human_count, plain_label
from workbench.ui.widgets.plain_text import plain_tooltip
from workbench.ui.wording import for_window

FORMATS = (("auto", "Automatic"), ("txt", "Plain text"), ("md", "Markdown"), ("jsonl", "JSON Lines"),
           ("csv", "CSV / TSV"), ("parquet", "Parquet"), ("folder", "Folder of text files"))
TABLE_FORMATS = ("jsonl", "csv", "parquet")
FORMAT_NAMES = dict(FORMATS) | {"mixed": "several formats"}
PREVIEW_RECORDS = 8


def _record_rule(number: int) -> str:
    return f"──── record {number} ────"


class ImportDialog(QDialog):
    """objectName `importDialog`. After `accept()`, `spec()` and `sources` describe the import."""

    def __init__(self, sources: Sequence[str | Path], taken_names: Iterable[str] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import Data")
        self.sources = [str(s) for s in sources]
        self.preview_error = ""
        self._fields: tuple[str, ...] = ()

        self.source_label = plain_label(self._sources_text().replace("/", "/\u200b"))  # long paths can wrap
        self.source_label.setToolTip(plain_tooltip("\n".join(self.sources)))  # paths: shown as typed
        self.format = QComboBox()
        self.format.setObjectName("importFormatCombo")
        for key, label in FORMATS:
            self.format.addItem(label, key)
        self.field = QComboBox()
        self.field.setObjectName("importFieldCombo")
        self.field.setToolTip("The JSON key or the column that holds the text")
        self.encoding_choice = encoding_combo()
        self.encoding = plain_label("")  # the encoding read and the size, from the preview
        self.encoding.setObjectName("importEncodingLabel")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("importPreview")
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setMinimumHeight(150)
        self.notes = plain_label("")
        self.notes.setObjectName("importNotes")

        self.normalize_newlines = self._check("Normalise newlines (\\r\\n, \\r → \\n)", "importNewlines", True)
        self.nfc = self._check("Unicode NFC normalisation", "importNfc", True)
        self.strip = self._check("Strip whitespace around each document", "importStrip", False)
        self.replace_invalid = self._check("Replace invalid bytes with �", "importReplaceInvalid", False)
        self.replace_invalid.setToolTip("Without it, a file that is not valid text in its encoding is refused")

        defaults = DatasetSpec(name="x")
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setObjectName("importValFraction")
        self.val_fraction.setRange(0.0, 90.0)
        self.val_fraction.setDecimals(1)
        self.val_fraction.setSingleStep(5.0)
        self.val_fraction.setSuffix(" %")
        self.val_fraction.setValue(defaults.val_fraction * 100)
        self.val_fraction.setToolTip("Share of the documents held out to measure the validation loss "
                                     "(a single document: its tail)")
        self.seed = QSpinBox()
        self.seed.setObjectName("importSeed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(defaults.seed)
        self.seed.setToolTip("Which documents go to validation; the same seed gives the same split")

        stem = Path(self.sources[0]).stem if self.sources else "dataset"
        self.name = NameField("dataset", taken_names)
        self.name.edit.setObjectName("importNameEdit")
        self.name.set_text(free_name(stem, taken_names))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Import")
        self.ok_button.setObjectName("importOkButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._build_layout()

        detected = self._detected_format()
        index = max(0, self.format.findData(detected))
        self.format.setItemText(index, f"{self.format.itemText(index)} (detected)")
        self.format.setCurrentIndex(index)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.field.currentIndexChanged.connect(self.refresh_preview)
        self.encoding_choice.currentIndexChanged.connect(self.refresh_preview)  # re-read in the chosen encoding
        for box in (self.normalize_newlines, self.nfc, self.strip, self.replace_invalid):
            box.toggled.connect(self.refresh_preview)
        self.name.validityChanged.connect(self._update_ok)
        self._format_changed()

    def _check(self, text: str, name: str, checked: bool) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        box.setChecked(checked)
        return box

    def _build_layout(self) -> None:
        top = QFormLayout()
        top.addRow("Files:", self.source_label)
        top.addRow("Format:", self.format)
        top.addRow("Field / column:", self.field)
        encoding_row = QHBoxLayout()
        encoding_row.addWidget(self.encoding_choice)
        encoding_row.addWidget(self.encoding, 1)
        top.addRow("Encoding:", encoding_row)
        preview_box = QGroupBox("Preview (first records, as they will be imported)")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview, 1)
        preview_layout.addWidget(self.notes)
        cleaning = QGroupBox("Cleaning")
        grid = QGridLayout(cleaning)
        grid.addWidget(self.normalize_newlines, 0, 0)
        grid.addWidget(self.nfc, 0, 1)
        grid.addWidget(self.strip, 1, 0)
        grid.addWidget(self.replace_invalid, 1, 1)
        split = QGroupBox("Train / validation split")
        split_form = QHBoxLayout(split)
        split_form.addWidget(plain_label("Validation share:", wrap=False))
        split_form.addWidget(self.val_fraction)
        split_form.addSpacing(16)
        split_form.addWidget(plain_label("Seed:", wrap=False))
        split_form.addWidget(self.seed)
        split_form.addStretch(1)
        name_form = QFormLayout()
        name_form.addRow("Dataset name:", self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(preview_box, 1)
        layout.addWidget(cleaning)
        layout.addWidget(split)
        layout.addLayout(name_form)
        layout.addWidget(self.buttons)
        self.resize(680, 640)

    def _sources_text(self) -> str:
        if len(self.sources) == 1:
            return self.sources[0]
        return f"{len(self.sources)} items: " + ", ".join(Path(s).name for s in self.sources[:4]) + \
            (", …" if len(self.sources) > 4 else "")

    def _detected_format(self) -> str:
        from workbench.core.data.importer import detect_format

        kinds = {detect_format(Path(s)) for s in self.sources}
        return kinds.pop() if len(kinds) == 1 else "auto"

    # ---- the spec ------------------------------------------------------------------------------

    def format_key(self) -> str:
        return str(self.format.currentData())

    def _effective_format(self) -> str:
        key = self.format_key()
        return self._detected_format() if key == "auto" else key

    def spec(self) -> DatasetSpec:
        table = self._effective_format() in TABLE_FORMATS
        return DatasetSpec(
            name=self.name.text(), format=self.format_key(),  # type: ignore[arg-type]
            field=(self.field.currentText() or None) if table else None,
            val_fraction=round(self.val_fraction.value() / 100.0, 4), seed=self.seed.value(),
            replace_invalid=self.replace_invalid.isChecked(),
            normalize_newlines=self.normalize_newlines.isChecked(), nfc=self.nfc.isChecked(),
            strip=self.strip.isChecked(), encoding=str(self.encoding_choice.currentData()))

    def set_taken_names(self, names: Iterable[str]) -> None:
        self.name.set_taken(names)

    # ---- preview -------------------------------------------------------------------------------

    @Slot()
    def _format_changed(self) -> None:
        table = self._effective_format() in TABLE_FORMATS
        self.field.setEnabled(table)
        self.field.setToolTip("The JSON key or the column that holds the text" if table
                              else "Only JSON Lines, CSV and Parquet files have fields")
        self.refresh_preview()

    def _set_fields(self, fields: tuple[str, ...]) -> None:
        if fields == self._fields:
            return
        current = self.field.currentText()
        self._fields = fields
        self.field.blockSignals(True)
        try:
            self.field.clear()
            self.field.addItems(list(fields))
            choice = current if current in fields else ("text" if "text" in fields else (fields[0] if fields else ""))
            self.field.setCurrentIndex(max(0, self.field.findText(choice)))
        finally:
            self.field.blockSignals(False)

    @Slot()
    def refresh_preview(self) -> None:
        """Read the start of the files again with the current settings (a few KB: quick)."""
        from workbench.core.data.importer import preview

        spec = self.spec()
        table = self._effective_format() in TABLE_FORMATS
        try:
            result = preview([Path(s) for s in self.sources], spec, max_records=PREVIEW_RECORDS)
            if table and result.fields and spec.field not in result.fields:
                result = self._first_look(result.fields)
        except (WorkbenchError, OSError) as exc:
            self.preview_error = for_window(str(exc))  # the core's words are the command line's
            self._set_fields(())
            self.preview.setPlainText("")
            self.encoding.setText("-")
            self._show_notes([f"Cannot read this as {FORMAT_NAMES.get(self.format_key(), self.format_key())}: {exc}"])
            self._update_ok()
            return
        self.preview_error = "" if result.records else "No text was found with these settings."
        if table:
            self._set_fields(result.fields)
        shown = FORMAT_NAMES.get(result.format, result.format)
        auto = " (detected)" if self.format_key() == "auto" else ""
        self.format.setToolTip(f"Read as {shown}{auto}")
        self.encoding.setText(f"{result.encoding or '-'}    ({human_count(result.total_bytes, 'B')} in all)")
        blocks = [f"{_record_rule(i)}\n{text}" for i, text in enumerate(result.records, 1)]
        self.preview.setPlainText("\n".join(blocks))
        notes = list(result.notes[:6]) + ([f"… and {len(result.notes) - 6} more notes"] if len(result.notes) > 6 else [])
        if not result.records:
            notes.insert(0, self.preview_error + (" Choose another field or column." if table else ""))
        self._show_notes(notes)
        self._update_ok()

    def _first_look(self, fields: tuple[str, ...]) -> Any:
        """Choose "text" if there is one, else the first field that holds text; return its preview."""
        from workbench.core.data.importer import preview

        self._set_fields(fields)
        result = None
        for name in sorted(fields, key=lambda f: f != "text"):
            with QSignalBlocker(self.field):
                self.field.setCurrentIndex(self.field.findText(name))
            result = preview([Path(s) for s in self.sources], self.spec(), max_records=PREVIEW_RECORDS)
            if result.records:
                break
        return result

    def _show_notes(self, notes: list[str]) -> None:
        self.notes.setText("\n".join(for_window(note) for note in notes))
        self.notes.setVisible(bool(notes))
        palette = self.notes.palette()
        palette.setColor(self.notes.foregroundRole(), error_color(self.palette()))
        self.notes.setPalette(palette)

    @Slot()
    def _update_ok(self) -> None:
        problem = self.name.problem() or self.preview_error
        self.ok_button.setEnabled(not problem)
        self.ok_button.setToolTip(plain_tooltip(problem or "Import these files into the project"))

    def records_shown(self) -> list[str]:
        """The preview's records (for tests): the text between the record rules."""
        text = self.preview.toPlainText()
        if not text:
            return []
        parts = text.split("\n")
        records: list[list[str]] = []
        for line in parts:
            if line.startswith("──── record ") and line.endswith(" ────"):
                records.append([])
            elif records:
                records[-1].append(line)
        return ["\n".join(r) for r in records]
