"""The main window: five dockable panels, menus, toolbar, status bar; opens and closes projects.

It is the only place that wires panels to each other and to jobs (the job half lives in
`jobs/controller.py`, the training panel's run actions in `run_wiring.py`, the docks and saved
layout in `window_docks.py`, the recent menu, export and read-only notice in `window_menus.py`).
Panels never import each other nor the engine.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMainWindow, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import PROJECT_SUFFIX, ProjectStore
from workbench.core.project.window_lock import WindowLock
from workbench.engine.runner import JobRunner
from workbench.ui import about, crash_dialog, errors, project_in_use, settings, theme, window_menus
from workbench.ui.actions import build_actions
from workbench.ui.attention_wiring import AttentionWiring
from workbench.ui.icons import app_icon
from workbench.ui.jobs.controller import JobController
from workbench.ui.jobs.dataset_controller import DatasetController
from workbench.ui.jobs.panels import Panels
from workbench.ui.jobs.playground_controller import PlaygroundJobs
from workbench.ui.panels.attention.panel import AttentionPanel
from workbench.ui.panels.dataset.panel import DatasetPanel
from workbench.ui.panels.model.panel import ModelPanel
from workbench.ui.panels.playground.panel import PlaygroundPanel
from workbench.ui.panels.training.panel import TrainingPanel
from workbench.ui.run_wiring import RunWiring
from workbench.ui.stale_runs import StaleRunWatcher
from workbench.ui.status_bar import WorkbenchStatusBar
from workbench.ui.widgets.plain_text import ask_yes_no, plain_tooltip, tooltip_text
from workbench.ui.window_docks import (
    DEFAULT_SIZE,
    STATE_VERSION,
    build_docks,
    restore_window_state,
    save_window_state,
)
from workbench.ui.window_docks import default_size as _default_size

__all__ = ["DEFAULT_SIZE", "STATE_VERSION", "MainWindow", "_default_size"]


class MainWindow(QMainWindow):
    firstPainted = Signal()

    def __init__(self, runner: JobRunner | None = None, *, warm_up: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.runner = runner or JobRunner(self)
        self.store: ProjectStore | None = None
        self._window_lock: WindowLock | None = None  # held while a project is open here for writing
        self._painted = False
        self.installEventFilter(self)  # until the first paint (`eventFilter`)
        self._warm_up = warm_up
        self.panels = Panels(DatasetPanel(), ModelPanel(), TrainingPanel(), AttentionPanel(), PlaygroundPanel())
        self.docks = build_docks(self, self.panels)
        self.status = WorkbenchStatusBar(self)
        self.setStatusBar(self.status)
        self.jobs = JobController(self, self.runner, self.panels, self.status)
        self.playground_jobs = PlaygroundJobs(self, self.runner, self.panels.playground)  # side by side, fill-mask, surprise
        self.actions = build_actions(self, list(self.docks.values()))
        self._connect_actions()
        self.jobs.enginesChanged.connect(self._engines_changed)
        self._engines_changed(self.jobs.engines)
        self.data_jobs = DatasetController(self, self.runner, self.panels.dataset, self.jobs.refresh_panels,
                                           anchor=self.actions.export_run)
        self.panels.dataset.importRequested.connect(self.import_text)
        self.run_wiring = RunWiring(self, self.jobs, self.panels, self.docks)  # resume, clone, open a checkpoint
        self.attention_wiring = AttentionWiring(self, self.jobs, self.panels, self.docks)  # slider, playground text
        self.stale_runs = StaleRunWatcher(lambda: self.store, lambda: self.runner.is_busy("train"), self,
                                          live_run=lambda: self.panels.training.live_run())
        self.stale_runs.runsInterrupted.connect(self._runs_interrupted)
        self._default_state = self.saveState(STATE_VERSION)
        restore_window_state(self)
        self._rebuild_recent_menu()
        self._set_project(None)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    # ---- construction --------------------------------------------------------------------------

    def _connect_actions(self) -> None:
        a = self.actions
        a.new_project.triggered.connect(self.new_project)
        a.open_project.triggered.connect(self.open_project_dialog)
        a.close_project.triggered.connect(self.close_project)
        a.export_run.triggered.connect(self.export_run)
        a.quit.triggered.connect(self.close)
        a.start_training.triggered.connect(self._start_training_action)
        a.stop_training.triggered.connect(self.jobs.stop_training)
        a.generate.triggered.connect(self._generate_action)
        a.stop_generation.triggered.connect(self.jobs.stop_generation)
        a.reset_layout.triggered.connect(self.reset_layout)
        a.about.triggered.connect(self._show_about)
        a.crash_reports.triggered.connect(self._show_crash_reports)
        a.open_log_folder.triggered.connect(self._open_log_folder)
        a.recent_menu.triggered.connect(self._open_recent)

    # ---- projects ------------------------------------------------------------------------------

    @Slot()
    def new_project(self) -> bool:
        path, _filter = QFileDialog.getSaveFileName(self, "New Project", str(Path.home() / f"project{PROJECT_SUFFIX}"),
                                                    f"LM Workbench projects (*{PROJECT_SUFFIX})")
        if not path:
            return False
        folder = Path(path)
        if folder.suffix != PROJECT_SUFFIX:
            folder = folder.with_name(folder.name + PROJECT_SUFFIX)
        try:
            ProjectStore.create(folder).close()
        except WorkbenchError as exc:
            errors.show_error(self, str(exc))
            return False
        return self.open_project(folder)

    @Slot()
    def open_project_dialog(self) -> bool:
        path = QFileDialog.getExistingDirectory(self, "Open Project", str(Path.home()))
        return self.open_project(path) if path else False

    def open_project(self, path: str | Path) -> bool:
        """Open the project folder at `path` (closing the current one); False with a dialog if it fails."""
        claim = project_in_use.claim_project(self, path, self._window_lock)  # asks when another window has it
        if claim is None:
            return False
        if not self._stop_jobs_if_confirmed("Open another project"):
            claim.drop()
            return False
        try:
            store, lock = claim.open(path)
        except WorkbenchError as exc:
            if not Path(path).exists():
                settings.remove_recent_project(path)
                self._rebuild_recent_menu()
            errors.show_error(self, str(exc))
            return False
        self._set_project(store, lock)
        settings.add_recent_project(store.root)
        self._rebuild_recent_menu()
        return True

    @Slot()
    def close_project(self) -> bool:
        if not self._stop_jobs_if_confirmed("Close the project"):
            return False
        self._set_project(None)
        return True

    def _set_project(self, store: ProjectStore | None, lock: WindowLock | None = None) -> None:
        """Show `store` (None: no project), kept under the window lock `lock` while it is open here."""
        if self.store is not None and self.store is not store:
            self.data_jobs.stop_all(wait=True)  # an import or tokenizer job must not outlive its store
            self.store.close()
        if self._window_lock is not None and self._window_lock is not lock:
            self._window_lock.release()  # after the old store closed: another window may open it now
        self.store, self._window_lock = store, lock
        for panel in self.panels.all():
            panel.set_project(store)
        name = store.root.name if store else None
        self.status.set_project(name)
        shown = f"{name} (read-only)" if store is not None and store.read_only else name
        self.setWindowTitle(f"{shown} — {settings.APP_NAME}" if shown else settings.APP_NAME)
        self.actions.close_project.setEnabled(store is not None)
        self._show_read_only(store)

    def _show_read_only(self, store: ProjectStore | None) -> None:
        window_menus.show_read_only(self, store)

    @Slot(list)
    def _runs_interrupted(self, names: list) -> None:
        self.jobs.refresh_panels()
        runs = ", ".join(repr(name) for name in names)
        self.status.showMessage(f"Run {runs} stopped unexpectedly (its process ended); "
                                "resume it from its last checkpoint.", 15_000)

    @Slot(QAction)
    def _open_recent(self, action: QAction) -> None:
        window_menus.open_recent(self, action)

    def _rebuild_recent_menu(self) -> None:
        window_menus.rebuild_recent_menu(self)

    @Slot()
    def import_text(self) -> bool:
        """Ask for files, then show the import dialog (format, field, cleaning, split, name) for them."""
        return self.data_jobs.choose_files()

    @Slot()
    def export_run(self) -> bool:
        """Export the run selected in the Training panel into a new folder beside the chosen one."""
        return window_menus.export_run(self)

    @Slot(object)
    def _engines_changed(self, reasons: dict) -> None:
        reason = reasons.get("export", "")
        self.actions.export_run.setEnabled(not reason)
        tip = reason or "Export the run selected in the Training panel as a Hugging Face folder"
        self.actions.export_run.setStatusTip(tip)
        self.actions.export_run.setToolTip(plain_tooltip(tip))

    # ---- actions -------------------------------------------------------------------------------

    @Slot()
    def _start_training_action(self) -> None:
        if not self.panels.model.request_training():
            self.status.showMessage(f"Cannot start training: {tooltip_text(self.panels.model.start_button.toolTip())}",
                                   8000)

    @Slot()
    def _generate_action(self) -> None:
        if not self.panels.playground.request_generation():
            self.status.showMessage(f"Cannot generate: {tooltip_text(self.panels.playground.generate_button.toolTip())}",
                                   8000)

    @Slot()
    def _show_about(self) -> None:
        about.show_about(self, self.jobs.device)

    @Slot()
    def _show_crash_reports(self) -> None:
        crash_dialog.show_crash_reports(self)

    @Slot()
    def _open_log_folder(self) -> None:
        crash_dialog.open_folder(settings.log_dir())

    @Slot()
    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        for dock in self.docks.values():
            dock.show()

    @Slot()
    def _on_color_scheme_changed(self) -> None:
        theme.apply_color_scheme(QGuiApplication.instance())

    # ---- start-up and shutdown -----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Watches the window's own events until its first paint, then stops watching.

        Why a filter and not an `event` override: an override wraps every event of the window,
        its repaint included, in a Python call that holds the GIL while Qt paints in C++; while a
        run trained, that was the largest share of the GIL the GUI thread took from training."""
        if watched is self and event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            self.removeEventFilter(self)
            QTimer.singleShot(0, self._after_first_paint)
        return False

    @Slot()
    def _after_first_paint(self) -> None:
        self.firstPainted.emit()
        if self._warm_up:
            self.jobs.start_warm_up()

    def _stop_jobs_if_confirmed(self, what: str) -> bool:
        """Stop the user's running jobs (training, generation, import, export) after asking; False when
        the user says no. The warm-up import is not asked about: it finishes out of sight."""
        reason = self._running_work()
        if not reason:
            return True
        if not ask_yes_no(self, settings.APP_NAME, f"{what}? {reason}"):  # plain: the reason names a dataset
            return False
        self.status.showMessage("Stopping…")
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.runner.stop_all(wait=True, lanes=("train", "interactive"))
            self.jobs.stop_kinds({"export", "import"}, wait=True)  # they use the project: let them end first
            self.data_jobs.stop_all(wait=True)
        finally:
            QGuiApplication.restoreOverrideCursor()
        return True

    def _running_work(self) -> str:
        """What closing now would stop, in words; "" when nothing the user started is running."""
        return window_menus.running_work(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._stop_jobs_if_confirmed("Quit"):
            event.ignore()
            return
        if self.runner.is_busy():
            self.hide()  # the warm-up import cannot be interrupted: finish it out of sight
        self.runner.stop_all(wait=True)
        self._save_window_state()
        self._set_project(None)
        event.accept()

    def _save_window_state(self) -> None:
        save_window_state(self)
