"""The fields of the model panel: data, model shape, initialisation and training settings.

`ModelForm` turns its fields into a `ModelSpec` and a `TrainSpec` and back. Settings the form does
not show (weight decay, betas, ...) come from the specs last loaded, so they survive a round trip.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.core.models.presets import PRESETS, apply_preset
from workbench.ui.panels.model.choices import DEVICES
from workbench.ui.panels.model.fields import (
    ARCHITECTURES,
    CUSTOM,
    HELP,
    INIT_KINDS,
    PRECISIONS,
    SCHEDULES,
    SIZE_FIELDS,
)
from workbench.ui.panels.model.sizes import preset_params
from workbench.ui.theme import is_dark
from workbench.ui.widgets.forms import human_count, plain_label
from workbench.ui.widgets.spec_form import (
    FRAME_COLORS,
    LearningRateBox,
    combo,
    float_box,
    int_box,
    select_data,
)


def _preset_label(name: str, arch: str, vocab: int) -> str:
    """"tiny — 0.54M parameters": counted for the chosen architecture and vocabulary, like the estimate."""
    return f"{name} — {human_count(preset_params(PRESETS[name], arch, vocab))} parameters"


def field_object_name(key: str) -> str:
    """objectName of the form field for a spec key: "n_layer" -> "nLayerField"."""
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest) + "Field"

class ModelForm(QWidget):
    """Fields and their specs. `changed` fires on any edit; `presetChosen` when a preset is applied."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base_model, self._base_train = ModelSpec(), TrainSpec()
        self._vocab = 0
        self._loading = False
        self._messages: dict[str, tuple[QFormLayout, QLabel]] = {}  # field key -> its message row
        m, t = self._base_model, self._base_train
        self.dataset = combo((), HELP["dataset"])
        self.dataset.setObjectName("trainDatasetCombo")
        self.tokenizer = combo((), HELP["tokenizer"])
        self.tokenizer.setObjectName("trainTokenizerCombo")
        self.vocab_label = plain_label("-")
        self.vocab_label.setObjectName("vocabLabel")
        self.init = combo(INIT_KINDS, HELP["init"])
        self.init_source = QLineEdit()
        self.init_source.setObjectName("initSourceEdit")
        self.init_source.setPlaceholderText("model folder or hub id, e.g. gpt2")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setObjectName("browseInitButton")
        self.arch = combo(ARCHITECTURES)
        self.preset = combo(((CUSTOM, "Custom"), *((name, name) for name in PRESETS)))
        self.preset.setObjectName("presetCombo")
        for index, name in enumerate(PRESETS, start=1):
            self.preset.setItemData(index, PRESETS[name].description, Qt.ItemDataRole.ToolTipRole)
        self.n_layer = int_box(1, 96, m.n_layer)
        self.n_head = int_box(1, 128, m.n_head)
        self.n_kv_head = int_box(0, 128, 0, special="same as heads")
        self.n_embd = int_box(1, 16384, m.n_embd, 32)
        self.block_size = int_box(1, 131072, m.block_size, 32, suffix=" tokens")
        self.dropout = float_box(0.0, 0.99, m.dropout, 0.05, 2)
        self.lr = LearningRateBox(t.lr)
        self.schedule = combo(SCHEDULES)
        self.warmup = int_box(0, 10_000_000, t.warmup, 10)
        self.batch_size = int_box(1, 65536, t.batch_size)
        self.grad_accum = int_box(1, 4096, t.grad_accum)
        self.max_steps = int_box(1, 100_000_000, t.max_steps, 100)
        self.eval_interval = int_box(1, 10_000_000, t.eval_interval, 50)
        self.patience = int_box(0, 10_000, t.patience, special="off", suffix=" evaluations")
        self.precision = combo(PRECISIONS)
        self.device = combo(DEVICES)
        self.seed = int_box(0, 2**31 - 1, t.seed)
        self.num_threads = int_box(0, max(1, os.cpu_count() or 1), t.num_threads, special="automatic")
        self.fields: dict[str, QWidget] = {key: getattr(self, key) for key in HELP}
        for key, widget in self.fields.items():
            widget.setToolTip(HELP[key])
            if not widget.objectName():  # e.g. "nLayerField", "maxStepsField": names tests and tools can find
                widget.setObjectName(field_object_name(key))
        self.set_specs(m, t)
        self._connect()

    # ---- layout pieces (the panel arranges them) -----------------------------------------------

    def data_box(self) -> QGroupBox:
        return self._group("Training data", (("Dataset", self.dataset), ("Tokenizer", self.tokenizer), ("Vocabulary", self.vocab_label)))

    def model_box(self) -> QGroupBox:
        source = QWidget()
        row = QHBoxLayout(source)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.init_source, 1)
        row.addWidget(self.browse_button)
        self._source_row = source
        box = self._group("Model", (("Start from", self.init), ("Source", source), ("Architecture", self.arch),
                               ("Preset", self.preset), ("Layers", self.n_layer), ("Attention heads", self.n_head),
                               ("Key/value heads", self.n_kv_head), ("Embedding size", self.n_embd),
                               ("Context", self.block_size), ("Dropout", self.dropout)))
        self._model_form = box.layout()
        self._update_enabled()
        return box

    def training_box(self) -> QGroupBox:
        return self._group("Training", (
            ("Learning rate", self.lr), ("Schedule", self.schedule), ("Warmup steps", self.warmup),
            ("Batch size", self.batch_size), ("Gradient accumulation", self.grad_accum), ("Steps", self.max_steps),
            ("Evaluate every", self.eval_interval), ("Early stopping", self.patience),
            ("Precision", self.precision), ("Device", self.device), ("CPU threads", self.num_threads),
            ("Seed", self.seed)))

    def _group(self, title: str, rows: tuple[tuple[str, QWidget], ...]) -> QGroupBox:
        """A form of `rows`; under each field a message row, shown while the field is invalid."""
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock puts labels above fields
        for label, widget in rows:
            form.addRow(label, widget)
            key = "init_source" if widget is getattr(self, "_source_row", None) else \
                next((k for k, field in self.fields.items() if field is widget), None)
            if key is not None:
                message = plain_label("")
                message.setObjectName(field_object_name(key).removesuffix("Field") + "Message")
                form.addRow("", message)
                form.setRowVisible(message, False)
                self._messages[key] = (form, message)
        return box

    # ---- checks of the fields themselves -------------------------------------------------------

    def form_problems(self) -> dict[str, str]:
        """{field key: reason} for what no spec can say: text in the learning-rate field that is not a
        learning rate, and a warmup longer than the run (the rate would never reach its peak)."""
        problems = {}
        if reason := self.lr.problem():
            problems["lr"] = reason
        warmup, steps = self.warmup.value(), self.max_steps.value()
        if warmup > steps:
            problems["warmup"] = (f"Warmup steps ({warmup:,}) are more than the run's steps ({steps:,}): the learning "
                                  f"rate would never reach its peak. Use at most {steps:,} warmup steps, or more steps.")
        return problems

    def show_field_message(self, key: str, text: str) -> None:
        """Show `text` under the field (its row hides when `text` is empty)."""
        if key not in self._messages:
            return
        form, label = self._messages[key]
        label.setText(text)
        label.setStyleSheet(f"color: {FRAME_COLORS[is_dark(self.palette())]};")
        form.setRowVisible(label, bool(text))

    # ---- specs ---------------------------------------------------------------------------------

    def specs(self) -> tuple[ModelSpec, TrainSpec]:
        arch = self.arch.currentData()
        kv = self.n_kv_head.value() if arch == "llama" and self.n_kv_head.value() > 0 else None
        source = self.init_source.text().strip() if self.init.currentData() != "scratch" else ""
        model = replace(self._base_model, arch=arch, n_layer=self.n_layer.value(), n_head=self.n_head.value(),
                        n_kv_head=kv, n_embd=self.n_embd.value(), block_size=self.block_size.value(),
                        dropout=round(self.dropout.value(), 4), vocab_size=self._vocab, init_from=source or None)
        train = replace(self._base_train, lr=float(f"{self.lr.value():.6g}"), schedule=self.schedule.currentData(),
                        warmup=self.warmup.value(), batch_size=self.batch_size.value(),
                        grad_accum=self.grad_accum.value(), max_steps=self.max_steps.value(),
                        eval_interval=self.eval_interval.value(), patience=self.patience.value(),
                        precision=self.precision.currentData(), device=self.device.currentData(),
                        seed=self.seed.value(), num_threads=self.num_threads.value())
        return model, train

    def set_specs(self, model: ModelSpec, train: TrainSpec, init_kind: str | None = None) -> None:
        """Show `model` and `train` (values out of a field's range are clamped by the field)."""
        self._loading = True
        try:
            self._base_model, self._base_train = model, train
            select_data(self.arch, model.arch)
            self.n_layer.setValue(model.n_layer)
            self.n_head.setValue(model.n_head)
            self.n_kv_head.setValue(model.n_kv_head or 0)
            self.n_embd.setValue(model.n_embd)
            self.block_size.setValue(model.block_size)
            self.dropout.setValue(model.dropout)
            self.init_source.setText(model.init_from or "")
            select_data(self.init, init_kind or _init_kind(model.init_from))
            self.lr.setValue(train.lr)
            for box, key in ((self.schedule, train.schedule), (self.precision, train.precision),
                             (self.device, train.device)):
                select_data(box, key)
            for name in ("warmup", "batch_size", "grad_accum", "max_steps", "eval_interval", "patience", "seed",
                         "num_threads"):
                getattr(self, name).setValue(getattr(train, name))
            self._sync_preset()
            self._update_enabled()
            self._label_presets()
        finally:
            self._loading = False
        self.changed.emit()

    def set_vocab(self, size: int, text: str) -> None:
        self._vocab = size
        self.vocab_label.setText(text)
        self._label_presets()

    def _label_presets(self) -> None:
        """Name each preset's size as the estimate will count it: for this architecture and vocabulary."""
        arch = self.arch.currentData()
        for index, name in enumerate(PRESETS, start=1):
            self.preset.setItemText(index, _preset_label(name, arch, self._vocab or PRESETS[name].vocab_size))

    def show_model_sizes(self, model: ModelSpec) -> None:
        """Show a pretrained model's own sizes in the (disabled) size fields, without a change signal."""
        self._loading = True
        try:
            select_data(self.arch, model.arch)
            for name in ("n_layer", "n_head", "n_embd"):
                getattr(self, name).setValue(getattr(model, name))
            self.n_kv_head.setValue(model.n_kv_head or 0)
            self._sync_preset()
        finally:
            self._loading = False

    # ---- reactions -----------------------------------------------------------------------------

    def _connect(self) -> None:
        for key, widget in self.fields.items():
            if key == "preset":
                widget.currentIndexChanged.connect(self._on_preset)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_edit)
            elif isinstance(widget, QLineEdit):
                widget.textChanged.connect(self._on_edit)
            elif hasattr(widget, "valueChanged"):
                widget.valueChanged.connect(self._on_edit)
        self.browse_button.clicked.connect(self._browse)

    @Slot()
    def _on_edit(self) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            self._sync_preset()
            self._update_enabled()
            self._label_presets()
        finally:
            self._loading = False
        self.changed.emit()

    @Slot()
    def _on_preset(self) -> None:
        name = self.preset.currentData()
        if self._loading or not name:
            return
        model, train = self.specs()
        self.set_specs(apply_preset(model, name), train, self.init.currentData())

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Pretrained Model Folder", self.init_source.text())
        if folder:
            select_data(self.init, "folder")
            self.init_source.setText(folder)

    def _sync_preset(self) -> None:
        sizes = (self.n_layer.value(), self.n_head.value(), self.n_embd.value(), self.block_size.value())
        match = next((name for name, p in PRESETS.items() if (p.n_layer, p.n_head, p.n_embd, p.block_size) == sizes),
                     CUSTOM)
        select_data(self.preset, match)

    def _update_enabled(self) -> None:
        arch, kind = self.arch.currentData(), self.init.currentData()
        pretrained = kind != "scratch"
        for name in SIZE_FIELDS:
            self.fields[name].setEnabled(not pretrained)
        self.n_head.setEnabled(not pretrained and arch != "lstm")  # an LSTM has no attention
        self.n_kv_head.setEnabled(not pretrained and arch == "llama")
        self.init_source.setEnabled(pretrained)
        self.browse_button.setEnabled(kind == "folder")
        if hasattr(self, "_model_form"):
            self._model_form.setRowVisible(self._source_row, pretrained)


def _init_kind(source: str | None) -> str:
    if not source:
        return "scratch"
    return "folder" if Path(source).expanduser().is_dir() else "hub"
