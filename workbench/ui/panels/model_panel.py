"""The model panel: what to train on, the model's shape and the main training settings."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import InvalidSpecError
from workbench.core.specs import ModelSpec, TrainSpec
from workbench.core.store import ProjectStore
from workbench.ui.widgets.forms import align_form_labels, plain_label, set_available

ARCHITECTURES = (("gpt2", "GPT-2"), ("llama", "Llama"), ("bert", "BERT (masked)"), ("lstm", "LSTM"))
AUTO_TOKENIZER = "Automatic"
DEVICES = (("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "CUDA GPU"), ("mps", "Apple GPU (MPS)"))


def _spin(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    return box


def _double(low: float, high: float, value: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def _combo(items: tuple[tuple[str, str], ...]) -> QComboBox:
    box = QComboBox()
    for key, label in items:
        box.addItem(label, key)
    return box


class ModelPanel(QWidget):
    """objectName `modelPanel`. `trainingRequested(dataset, tokenizer, ModelSpec, TrainSpec)`."""

    trainingRequested = Signal(str, str, object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPanel")
        self._store: ProjectStore | None = None
        self._engine_missing = "Looking for the training engine…"
        self._running = False

        self.dataset = QComboBox()
        self.dataset.setObjectName("trainDatasetCombo")
        self.tokenizer = QComboBox()
        self.tokenizer.setObjectName("trainTokenizerCombo")
        self.tokenizer.setToolTip("Automatic: the dataset's newest tokenizer, or a new character tokenizer if it has none")
        defaults, train_defaults = ModelSpec(), TrainSpec()
        self.arch = _combo(ARCHITECTURES)
        self.n_layer = _spin(1, 96, defaults.n_layer)
        self.n_head = _spin(1, 64, defaults.n_head)
        self.n_embd = _spin(8, 8192, defaults.n_embd, 32)
        self.block_size = _spin(2, 32768, defaults.block_size, 32)
        self.dropout = _double(0.0, 0.9, defaults.dropout, 0.05, 2)
        self.batch_size = _spin(1, 4096, train_defaults.batch_size)
        self.lr = _double(0.00001, 0.5, train_defaults.lr, 0.0001, 5)
        self.max_steps = _spin(1, 10_000_000, train_defaults.max_steps, 100)
        self.eval_interval = _spin(1, 1_000_000, train_defaults.eval_interval, 50)
        self.device = _combo(DEVICES)
        self.arch.currentIndexChanged.connect(self._arch_changed)

        data_box = QGroupBox("Data")
        data_form = QFormLayout(data_box)
        data_form.addRow("Dataset", self.dataset)
        data_form.addRow("Tokenizer", self.tokenizer)
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow("Architecture", self.arch)
        model_form.addRow("Layers", self.n_layer)
        model_form.addRow("Attention heads", self.n_head)
        model_form.addRow("Embedding size", self.n_embd)
        model_form.addRow("Context (tokens)", self.block_size)
        model_form.addRow("Dropout", self.dropout)
        train_box = QGroupBox("Training")
        train_form = QFormLayout(train_box)
        train_form.addRow("Batch size", self.batch_size)
        train_form.addRow("Learning rate", self.lr)
        train_form.addRow("Steps", self.max_steps)
        train_form.addRow("Evaluate every", self.eval_interval)
        train_form.addRow("Device", self.device)
        align_form_labels(data_form, model_form, train_form)

        self.problem = plain_label("")
        self.problem.setObjectName("modelProblem")
        self.start_button = QPushButton("Start Training")
        self.start_button.setObjectName("startTrainingButton")
        self.start_button.clicked.connect(self.request_training)
        buttons = QHBoxLayout()
        buttons.addWidget(self.problem, 1)
        buttons.addWidget(self.start_button)

        form = QWidget()
        form_layout = QVBoxLayout(form)
        for box in (data_box, model_box, train_box):
            form_layout.addWidget(box)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self._update_start_button()

    # ---- inputs from MainWindow ----------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        datasets = self._store.list_datasets() if self._store else []
        tokenizers = self._store.list_tokenizers() if self._store else []
        _refill(self.dataset, [(d["name"], d["name"]) for d in datasets])
        _refill(self.tokenizer, [(AUTO_TOKENIZER, ""), *((f"{t['name']} ({t['kind']}, {t['vocab_size']} tokens)", t["name"])
                                                         for t in tokenizers)])
        self._update_start_button()

    def set_training_available(self, available: bool, reason: str = "") -> None:
        self._engine_missing = "" if available else reason
        self._update_start_button()

    def set_training_running(self, running: bool) -> None:
        self._running = running
        self._update_start_button()

    # ---- the request ---------------------------------------------------------------------------

    def specs(self) -> tuple[ModelSpec, TrainSpec]:
        model = ModelSpec(arch=self.arch.currentData(), n_layer=self.n_layer.value(), n_head=self.n_head.value(),
                          n_embd=self.n_embd.value(), block_size=self.block_size.value(),
                          dropout=round(self.dropout.value(), 4))
        train = TrainSpec(batch_size=self.batch_size.value(), lr=self.lr.value(), max_steps=self.max_steps.value(),
                          eval_interval=self.eval_interval.value(), device=self.device.currentData())
        return model, train

    def request_training(self) -> bool:
        """Check the settings and emit `trainingRequested`; False (with the reason shown) if not."""
        if not self.start_button.isEnabled():
            return False
        model, train = self.specs()
        try:
            model.validate()
            train.validate()
        except InvalidSpecError as exc:
            self.problem.setText(str(exc))
            return False
        self.problem.setText("")
        self.trainingRequested.emit(self.dataset.currentData(), self.tokenizer.currentData() or "", model, train)
        return True

    def _update_start_button(self) -> None:
        if self._running:
            reason = "A training run is in progress; stop it before starting another."
        elif self._engine_missing:
            reason = self._engine_missing
        elif self._store is None:
            reason = "Open or create a project first."
        elif self.dataset.count() == 0:
            reason = "Import a dataset first: training needs text."
        else:
            reason = ""
        set_available(self.start_button, not reason, reason, "Start training this model (F5)")

    def _arch_changed(self) -> None:
        self.n_head.setEnabled(self.arch.currentData() != "lstm")  # an LSTM has no attention heads


def _refill(combo: QComboBox, items: list[tuple[str, str]]) -> None:
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for label, key in items:
        combo.addItem(label, key)
    index = combo.findData(current)
    combo.setCurrentIndex(index if index >= 0 else 0)
    combo.blockSignals(False)
