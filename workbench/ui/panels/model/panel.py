"""The model panel: what to train on, the model's shape and the training settings, with live checks,
estimates (parameters, memory, FLOPs, time) and the learning-rate curve of the run.

Checks that need no torch (`ModelSpec.validate`, `TrainSpec.validate`) run on every edit; those that
do (`validate_against`, device, precision) and the estimates come back from background jobs that the
window's job controller runs for `estimateRequested` (debounced) and feeds to `show_estimate` and
`show_probe`.
A field at fault gets a red frame, the reason in a line under it and as tooltip; all reasons show
under the form too (next to Start, which stays disabled while there is one).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.core.project.store import ProjectStore
from workbench.ui.jobs.model import EstimateRequest, EstimateResult, ProbeResult, probe_key, run_seconds
from workbench.ui.panels.model import settings as model_settings
from workbench.ui.panels.model.choices import fill_data_choices, label_devices, vocabulary
from workbench.ui.panels.model.fields import HELP
from workbench.ui.panels.model.form import ModelForm
from workbench.ui.read_only import read_only_reason
from workbench.ui.theme import is_dark
from workbench.ui.widgets.estimate_view import WARNING_COLORS, EstimateView, human_bytes, human_seconds
from workbench.ui.widgets.forms import align_form_labels, human_count, plain_label, set_available
from workbench.ui.widgets.lr_curve import LrCurvePlot
from workbench.ui.widgets.plain_text import ask_yes_no
from workbench.ui.widgets.spec_form import mark_invalid, problems_by_field, select_data, spec_problem

DEBOUNCE_MS = 300


class ModelPanel(ModelForm):
    """objectName `modelPanel`. `trainingRequested(dataset, tokenizer, ModelSpec, TrainSpec)`;
    `estimateRequested(EstimateRequest)` asks for checks and estimates of the current settings."""

    trainingRequested = Signal(str, str, object, object)
    estimateRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPanel")
        self._store: ProjectStore | None = None
        self._datasets: list[dict[str, Any]] = []
        self._tokenizers: list[dict[str, Any]] = []
        self._engine_missing = ""  # why not, when the warm-up cannot load the engine
        self._running = False
        self._vocab_exact = False
        self._problems: dict[str, str] = {}  # field key ("" for none) -> reason, from the checks on this thread
        self._job_problems: dict[str, str] = {}  # the same, from the estimate of the current settings
        self._requested: EstimateRequest | None = None
        self._estimated: EstimateResult | None = None
        self._seconds_per_step: float | None = None

        self.lr_plot = LrCurvePlot()
        self.estimates = EstimateView()
        self.problem = plain_label("")
        self.problem.setObjectName("modelProblem")
        self.summary = plain_label("")
        self.summary.setObjectName("estimateSummary")
        self.start_button = QPushButton("Start Training")
        self.start_button.setObjectName("startTrainingButton")
        self.start_button.clicked.connect(self.request_training)
        self._build_layout()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._request_estimate)
        self.changed.connect(self._on_changed)
        self._on_changed()

    def _build_layout(self) -> None:
        boxes = (self.data_box(), self.model_box(), self.training_box())
        schedule_box = QGroupBox("Learning rate over the run")
        QVBoxLayout(schedule_box).addWidget(self.lr_plot)
        estimate_box = QGroupBox("Estimate")
        QVBoxLayout(estimate_box).addWidget(self.estimates)
        align_form_labels(*(box.layout() for box in boxes), self.estimates.form)
        form = QWidget()
        form_layout = QVBoxLayout(form)
        for box in (*boxes, schedule_box, estimate_box):
            form_layout.addWidget(box)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)

    # ---- inputs from MainWindow ----------------------------------------------------------------

    def set_project(self, store: ProjectStore | None) -> None:
        self._store = store
        self._requested = None
        self._fill_lists()
        state = model_settings.load(store)
        if state is not None:
            select_data(self.dataset, state.dataset)
            select_data(self.tokenizer, state.tokenizer)
            self.set_specs(state.model, state.train, state.init_kind)  # emits changed
        else:
            self._on_changed()

    def refresh(self) -> None:
        self._fill_lists()
        self._on_changed()

    def set_training_available(self, available: bool, reason: str = "") -> None:
        self._engine_missing = "" if available else reason
        self._update_start_button()

    def set_training_running(self, running: bool) -> None:
        self._running = running
        self._update_start_button()

    @Slot(object)
    def show_estimate(self, result: EstimateResult) -> None:
        """An estimate came back; ignored unless it is of the current settings."""
        if result.request != self._current_request():
            return
        self._estimated = result
        self._job_problems = problems_by_field(result.problems)
        label_devices(self.device, result.devices)
        if result.model is not None and result.request.model.init_from:
            self.show_model_sizes(result.model)
        model, train = result.model or result.request.model, result.request.train
        if result.estimate is not None:
            self.estimates.show_estimate(result.estimate, train, model.block_size, result.request.vocab_exact)
            if result.problems or result.estimate.get("fits") is False:
                self.estimates.set_time_pending("-")
        else:
            self.estimates.set_message("No estimate until the problems below are solved.")
        self._show_problems()
        self._update_summary()

    @Slot(object)
    def show_probe(self, result: ProbeResult) -> None:
        request = self._current_request()
        if request is None or result.key != probe_key(request):
            return
        train = request.train
        self._seconds_per_step = result.seconds_per_step
        if result.seconds_per_step is None:
            self.estimates.show_time(None, train, result.problem)
        else:
            threads = f", {result.threads} thread{'s' * (result.threads != 1)}" if result.device == "cpu" else ""
            where = f"{result.device.upper()}{threads}"
            detail = f"rough: scaled up from a smaller batch on {where}" if result.scaled else f"measured on {where}"
            self.estimates.show_time(result.seconds_per_step, train, detail,
                                     run_seconds(result.seconds_per_step, train))
        self._update_summary()

    @property
    def estimate_result(self) -> EstimateResult | None:
        """The estimate of the current settings, once it has come back."""
        return self._estimated

    # ---- the request ---------------------------------------------------------------------------

    def training_specs(self) -> tuple[ModelSpec, TrainSpec]:
        """The specs Start sends: the vocabulary is the tokenizer's (0 while none exists yet)."""
        model, train = self.specs()
        return replace(model, vocab_size=model.vocab_size if self._vocab_exact else 0), train

    def request_training(self) -> bool:
        """Emit `trainingRequested` for the current settings; False when they cannot start."""
        self._on_changed()
        if not self.start_button.isEnabled():
            return False
        if self.estimates.fits is False and not ask_yes_no(self, "Start Training",
                                                           f"{self.estimates.fit.text()}\n\nStart anyway?"):
            return False
        model, train = self.training_specs()
        model_settings.save(self._store, self._state())
        self.trainingRequested.emit(self.dataset.currentData(), self.tokenizer.currentData() or "", model, train)
        return True

    # ---- reacting to edits ---------------------------------------------------------------------

    @Slot()
    def _on_changed(self) -> None:
        self._update_vocab()
        model, train = self.specs()
        self._problems = problems_by_field([exc for spec in (model, train) if (exc := spec_problem(spec))])
        self._problems.update(self.form_problems())  # typed text that is not a learning rate, a too long warmup
        if self.init.currentData() != "scratch" and not self.init_source.text().strip():
            what = "folder" if self.init.currentData() == "folder" else "hub id"
            self._problems.setdefault("init_source", f"Choose the pretrained model's {what}, or start from scratch.")
        if "lr" not in self._problems and "max_steps" not in self._problems:
            self.lr_plot.show_schedule(train)
        request = self._current_request()
        if request is None:
            self._debounce.stop()
            self.estimateRequested.emit(None)  # drops estimates and timings still waiting
        if request != self._requested or request is None:
            self._requested = None
            self._estimated = None
            self._job_problems = {}
            self._seconds_per_step = None
            if self._store is None:
                self.estimates.set_message("Open a project: the estimates use its tokenizer's vocabulary.")
            elif request is None:
                self.estimates.set_message("No estimate until the problems below are solved.")
            else:
                self.estimates.set_pending()
                self._debounce.start()
        self._show_problems()
        self._update_summary()

    @Slot()
    def _request_estimate(self) -> None:
        request = self._current_request()
        if request is None or request == self._requested:
            return
        self._requested = request
        model_settings.remember(self._state())
        self.estimateRequested.emit(request)

    def _current_request(self) -> EstimateRequest | None:
        if self._store is None or self._problems or self.dataset.count() == 0:
            return None
        model, train = self.specs()
        if model.init_from:  # the pretrained config decides the sizes: the fields only show them
            model = replace(model, arch="gpt2", n_layer=1, n_head=1, n_kv_head=None, n_embd=1)
        return EstimateRequest(model, train, self._vocab_exact)

    def _state(self) -> model_settings.PanelState:
        model, train = self.training_specs()
        return model_settings.PanelState(model, train, self.dataset.currentData() or "",
                                         self.tokenizer.currentData() or "", self.init.currentData())

    # ---- what is shown -------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every reason the settings cannot start, in the form's words."""
        merged = {**self._job_problems, **self._problems}
        return list(dict.fromkeys(merged.values()))

    def _show_problems(self) -> None:
        merged = {**self._job_problems, **self._problems}
        shown: set[str] = set()
        for key, widget in self.fields.items():
            reason = merged.get(key, "")
            mark_invalid(widget, reason, HELP.get(key, ""))
            self.show_field_message(key, "" if reason in shown else reason)  # once, under the first field named
            shown.add(reason)
        self.problem.setText("\n".join(self.problems()))
        self.problem.setVisible(bool(self.problem.text()))
        self._color_problem()
        self._update_start_button()

    def _update_start_button(self) -> None:
        problems = self.problems()
        if self._running:
            reason = "A training run is in progress; stop it before starting another."
        elif self._engine_missing:
            reason = self._engine_missing
        elif self._store is None:
            reason = "Open or create a project first."
        elif self._store.read_only:
            reason = read_only_reason(self._store, "Training")
        elif self.dataset.count() == 0:
            reason = "Import a dataset first: training needs text."
        else:
            reason = problems[0] if problems else ""
        set_available(self.start_button, not reason, reason, "Start training this model (F5)")

    def _update_summary(self) -> None:
        numbers = self._estimated.estimate if self._estimated is not None else None
        self._color_problem()
        if numbers is None:
            self.summary.setText("")
            return
        memory = human_bytes(numbers["total_bytes"]) + (" (will not fit)" if numbers.get("fits") is False else "")
        parts = [f"{human_count(numbers['params'])} parameters", memory]
        if self._seconds_per_step is not None:
            parts.append(f"about {human_seconds(run_seconds(self._seconds_per_step, self.specs()[1]))}")
        self.summary.setText(" · ".join(parts))

    def _update_vocab(self) -> None:
        vocab = vocabulary(self._datasets, self._tokenizers, self.dataset.currentData(), self.tokenizer.currentData())
        self._vocab_exact = vocab.exact
        self.set_vocab(vocab.size, vocab.text)

    def _fill_lists(self) -> None:
        self._datasets = self._store.list_datasets() if self._store else []
        self._tokenizers = self._store.list_tokenizers() if self._store else []
        fill_data_choices(self.dataset, self.tokenizer, self._datasets, self._tokenizers)

    def _color_problem(self) -> None:
        warning = f"color: {WARNING_COLORS[is_dark(self.palette())]};"
        self.problem.setStyleSheet(warning)
        self.summary.setStyleSheet(warning if self.estimates.fits is False else "")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "problem"):
            self._color_problem()
            self._show_problems()  # the field messages take the scheme's red

