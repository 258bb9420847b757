"""Runs the dataset panel's requests as jobs: imports, samples, tokenizers, and the lab's encodings.

The main window creates one `DatasetController` and it does the rest of the wiring: the File menu's
import actions, dropping files anywhere on the window, progress and Cancel in the panel. Imports,
samples and tokenizers share one "data task" at a time (they all write to the project); encodings
for the lab are cheap, one per lab column, and a newer request stops the older one.
Jobs run in the runner's "background" lane, so they never stop training or generation.
A failed job's dialog is shown by the `JobController`, which sees every job's failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtGui import QAction, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from workbench.core.base.errors import WorkbenchError
from workbench.engine.runner import Job, JobRunner, stop_jobs
from workbench.ui import errors
from workbench.ui.jobs import dataset as dataset_jobs
from workbench.ui.panels.dataset.panel import DatasetPanel, dropped_paths
from workbench.ui.widgets.plain_text import tooltip_text

LANE = "background"
FILE_FILTER = "Text and data files (*.txt *.md *.markdown *.rst *.jsonl *.ndjson *.json *.csv *.tsv *.parquet);;All files (*)"


@dataclass
class _Task:
    job: Job
    kind: str  # "import" | "sample" | "tokenizer"
    title: str


class DatasetController(QObject):
    def __init__(self, window: QMainWindow, runner: JobRunner, panel: DatasetPanel,
                 refresh: Callable[[], None], anchor: QAction | None = None) -> None:
        """`refresh` updates every panel after the project changed; the File menu's import actions
        go just before `anchor` (an action of that menu)."""
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.panel = panel
        self._refresh = refresh
        self.task: _Task | None = None
        self._encodings: dict[int, tuple[str, int, str]] = {}  # job id -> (slot, tokenizer id, text)
        self._encode_jobs: dict[str, Job] = {}  # slot -> its newest encoding job
        self.import_action = QAction("Import &Data…", window)
        self.import_action.setObjectName("importDataAction")
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self.choose_files)
        self.import_folder_action = QAction("Import &Folder…", window)
        self.import_folder_action.setObjectName("importFolderAction")
        self.import_folder_action.triggered.connect(self.choose_folder)
        self._add_to_menu(anchor)
        panel.importConfirmed.connect(self.start_import)
        panel.sampleRequested.connect(self.start_sample)
        panel.tokenizerRequested.connect(self.start_tokenizer)
        panel.encodeRequested.connect(self.start_encoding)
        panel.cancelRequested.connect(self.cancel)
        panel.importAvailabilityChanged.connect(self._availability_changed)
        runner.jobProgress.connect(self._on_progress)
        runner.jobFailed.connect(self._on_failed)
        runner.jobFinished.connect(self._on_finished)
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        self._availability_changed(panel.import_button.isEnabled(), tooltip_text(panel.import_button.toolTip()))

    def _add_to_menu(self, anchor: QAction | None) -> None:
        actions = [self.import_action, self.import_folder_action]
        for top in self.window.menuBar().actions():
            menu = top.menu()
            if isinstance(menu, QMenu) and anchor is not None and anchor in menu.actions():
                menu.insertActions(anchor, actions)
                return
        self.window.addActions(actions)  # no menu to join: the shortcuts still work

    @property
    def store(self) -> Any:
        return getattr(self.window, "store", None)

    def _status(self, text: str, ms: int = 8000) -> None:
        bar = self.window.statusBar()
        if bar is not None:
            bar.showMessage(text, ms)

    # ---- choosing what to import ---------------------------------------------------------------

    @Slot()
    def choose_files(self) -> bool:
        """Ask for files, then show the import dialog for them."""
        if self._explain_blocked():
            return False
        paths, _filter = QFileDialog.getOpenFileNames(self.window, "Import Data", str(Path.home()), FILE_FILTER)
        return bool(paths) and self.panel.open_import_dialog(paths) is not None

    @Slot()
    def choose_folder(self) -> bool:
        if self._explain_blocked():
            return False
        folder = QFileDialog.getExistingDirectory(self.window, "Import a Folder of Text Files", str(Path.home()))
        return bool(folder) and self.panel.open_import_dialog([folder]) is not None

    def _explain_blocked(self) -> bool:
        reason = "" if self.panel.import_button.isEnabled() else tooltip_text(self.panel.import_button.toolTip())
        if reason:
            self._status(f"Cannot import: {reason}")
        return bool(reason)

    @Slot(bool, str)
    def _availability_changed(self, available: bool, reason: str) -> None:
        for action in (self.import_action, self.import_folder_action):
            action.setEnabled(available)
            action.setStatusTip(reason if not available else "Import text files or a folder into the project")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Files dropped anywhere on the window are imported like files dropped on the panel."""
        if watched is self.window and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if isinstance(event, QDropEvent) and dropped_paths(event.mimeData()) \
                    and self.panel.import_button.isEnabled():
                event.acceptProposedAction()
                return True
        elif watched is self.window and event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent) \
                and self.panel.handle_drop(event.mimeData()):
            event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    # ---- data tasks: one at a time -------------------------------------------------------------

    def _start_task(self, kind: str, title: str, factory: Callable[[], Any]) -> Job | None:
        if self.store is None:
            errors.show_error(self.window, "Open or create a project first.")
            return None
        if self.task is not None:
            errors.show_error(self.window, f"{self.task.title} is still running; wait for it or cancel it first.")
            return None
        try:
            job = self.runner.start(LANE, factory, name=title)
        except WorkbenchError as exc:
            errors.show_error(self.window, str(exc))
            return None
        self.task = _Task(job, kind, title)
        self.panel.begin_job(title)
        return job

    @Slot(object, object)
    def start_import(self, sources: Sequence[str | Path], spec: Any) -> Job | None:
        factory = functools.partial(dataset_jobs.import_job, self.store, list(sources), spec)
        return self._start_task("import", f"Importing {spec.name}", factory)

    @Slot(str, str)
    def start_sample(self, key: str, name: str) -> Job | None:
        return self._start_task("sample", f"Importing the sample {name}",
                                functools.partial(dataset_jobs.sample_job, self.store, key, name))

    @Slot(str, object)
    def start_tokenizer(self, dataset: str, spec: Any) -> Job | None:
        return self._start_task("tokenizer", f"Making tokenizer {spec.name}",
                                functools.partial(dataset_jobs.tokenizer_job, self.store, dataset, spec))

    @Slot()
    def cancel(self) -> None:
        if self.task is not None:
            self.panel.job_bar.cancelling()
            self.task.job.stop()

    def stop_all(self, wait: bool = True) -> None:
        """Stop every dataset job (before the project closes); with `wait`, until their threads end."""
        stop_jobs(([self.task.job] if self.task else []) + list(self._encode_jobs.values()), wait)

    # ---- the lab's encodings -------------------------------------------------------------------

    @Slot(str, int, str)
    def start_encoding(self, slot: str, tokenizer_id: int, text: str) -> Job | None:
        if self.store is None:
            return None
        older = self._encode_jobs.get(slot)
        if older is not None:
            older.stop()  # its answer would be ignored anyway
        job = self.runner.start(LANE, functools.partial(dataset_jobs.encode_job, self.store, tokenizer_id, text),
                                name=f"encode {slot}")
        self._encodings[job.id] = (slot, tokenizer_id, text)
        self._encode_jobs[slot] = job
        return job

    # ---- the runner's signals ------------------------------------------------------------------

    @Slot(int, str, object)
    def _on_progress(self, job_id: int, lane: str, events: tuple) -> None:
        if self.task is not None and job_id == self.task.job.id:
            self.panel.show_job_events(events)

    @Slot(int, str, str, str)
    def _on_failed(self, job_id: int, lane: str, message: str, details: str) -> None:
        question = self._encodings.get(job_id)
        if question is not None:
            slot, tokenizer_id, text = question
            self.panel.show_encoding_failure(slot, tokenizer_id, text, message)

    @Slot(int, str, str, object)
    def _on_finished(self, job_id: int, lane: str, outcome: str, result: object) -> None:
        question = self._encodings.pop(job_id, None)
        if question is not None:
            slot, _tokenizer_id, text = question
            if self._encode_jobs.get(slot) is not None and self._encode_jobs[slot].id == job_id:
                del self._encode_jobs[slot]
            if outcome == "finished" and result is not None:
                self.panel.show_encoding(slot, text, result)
            return
        if self.task is None or job_id != self.task.job.id:
            return
        task, self.task = self.task, None
        self.panel.end_job()
        if outcome == "stopped":
            self._status(f"{task.title} cancelled; nothing was kept.")
        if outcome != "finished" or not isinstance(result, dict):
            return
        self._refresh()
        if task.kind == "tokenizer":
            self._status(f"Tokenizer {result['name']!r} is ready ({result['vocab_size']:,} tokens).")
            self.panel.lab.select_tokenizer("a", int(result["id"]))
        else:
            self._status(f"Imported dataset {result['name']!r}.")
            self.panel.select_dataset(int(result["id"]))
