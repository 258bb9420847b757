"""The main window: five dockable panels, menus, toolbar, status bar; opens and closes projects.

It is the only place that wires panels to each other and to jobs (the job half lives in
`job_controller.py`). Panels never import each other nor the engine.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QScreen
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.store import PROJECT_SUFFIX, ProjectStore
from workbench.core.project.window_lock import WindowLock
from workbench.engine.runner import JobRunner
from workbench.ui import about, crash_dialog, errors, project_in_use, settings, theme
from workbench.ui.actions import build_actions
from workbench.ui.icons import app_icon
from workbench.ui.jobs.controller import JobController, Panels
from workbench.ui.jobs.dataset_controller import DatasetController
from workbench.ui.panels.attention.panel import AttentionPanel
from workbench.ui.panels.dataset.panel import DatasetPanel
from workbench.ui.panels.model.panel import ModelPanel
from workbench.ui.panels.playground.panel import PlaygroundPanel
from workbench.ui.panels.training.panel import TrainingPanel
from workbench.ui.read_only import read_only_reason
from workbench.ui.run_wiring import RunWiring
from workbench.ui.stale_runs import StaleRunWatcher
from workbench.ui.status_bar import WorkbenchStatusBar
from workbench.ui.widgets.plain_text import ask_yes_no, plain_tooltip, tooltip_text

STATE_VERSION = 1  # bump when the docks change, so an old saved layout is not restored over them
DEFAULT_SIZE = QSize(1360, 860)
FRAME_ALLOWANCE = 40  # the title bar and frame the window manager adds around the window's own size
DOCK_AREA = Qt.DockWidgetArea


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
        self._warm_up = warm_up
        self.panels = Panels(DatasetPanel(), ModelPanel(), TrainingPanel(), AttentionPanel(), PlaygroundPanel())
        self.docks = self._build_docks()
        self.status = WorkbenchStatusBar(self)
        self.setStatusBar(self.status)
        self.jobs = JobController(self, self.runner, self.panels, self.status)
        self.actions = build_actions(self, list(self.docks.values()))
        self._connect_actions()
        self.jobs.enginesChanged.connect(self._engines_changed)
        self._engines_changed(self.jobs.engines)
        self.data_jobs = DatasetController(self, self.runner, self.panels.dataset, self.jobs.refresh_panels,
                                           anchor=self.actions.export_run)
        self.panels.dataset.importRequested.connect(self.import_text)
        self.run_wiring = RunWiring(self, self.jobs, self.panels, self.docks)  # resume, clone, open a checkpoint
        self.stale_runs = StaleRunWatcher(lambda: self.store, lambda: self.runner.is_busy("train"), self,
                                          live_run=lambda: self.panels.training.live_run())
        self.stale_runs.runsInterrupted.connect(self._runs_interrupted)
        self._default_state = self.saveState(STATE_VERSION)
        self._restore_window_state()
        self._rebuild_recent_menu()
        self._set_project(None)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    # ---- construction --------------------------------------------------------------------------

    def _build_docks(self) -> dict[str, QDockWidget]:
        self.setDockNestingEnabled(True)
        p = self.panels
        specs = (("dataset", "Data", p.dataset, DOCK_AREA.LeftDockWidgetArea),
                 ("model", "Model", p.model, DOCK_AREA.LeftDockWidgetArea),
                 ("training", "Training", p.training, DOCK_AREA.RightDockWidgetArea),
                 ("playground", "Playground", p.playground, DOCK_AREA.RightDockWidgetArea),
                 ("attention", "Attention", p.attention, DOCK_AREA.RightDockWidgetArea))
        docks: dict[str, QDockWidget] = {}
        for key, title, panel, area in specs:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}Dock")
            dock.setWidget(panel)
            self.addDockWidget(area, dock)
            docks[key] = dock
        self.splitDockWidget(docks["dataset"], docks["model"], Qt.Orientation.Vertical)
        self.splitDockWidget(docks["training"], docks["playground"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(docks["playground"], docks["attention"])
        docks["playground"].raise_()
        size = _default_size(self.screen() or QGuiApplication.primaryScreen())
        self.resize(size)
        # Shares of the first-run size (Qt keeps a dock at its minimum where a share is less): on a
        # small screen the left column keeps its third and the curves keep the larger part.
        width, height = size.width(), size.height()
        self.resizeDocks([docks["dataset"], docks["training"]], [width * 35 // 100, width * 65 // 100],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([docks["dataset"], docks["model"]], [height * 41 // 100, height * 59 // 100],
                         Qt.Orientation.Vertical)
        self.resizeDocks([docks["training"], docks["playground"]], [height * 60 // 100, height * 40 // 100],
                         Qt.Orientation.Vertical)
        return docks

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
        """Training cannot save anything in a read-only project: its action says so (the panels'
        buttons say the same); browsing, generating, attention and export stay available."""
        reason = read_only_reason(store, "Training")
        action = self.actions.start_training
        action.setEnabled(not reason)
        tip = reason or "Start training the model set up in the Model panel"
        action.setStatusTip(tip)
        action.setToolTip(plain_tooltip(tip))
        if reason:
            why = ("is open in another LM Workbench window, so it is read-only here"
                   if store is not None and store.open_elsewhere else "is read-only")
            self.status.showMessage(f"This project {why}: you can browse it, generate, look at attention "
                                    "and export runs, but not change it.", 15_000)

    @Slot(list)
    def _runs_interrupted(self, names: list) -> None:
        self.jobs.refresh_panels()
        runs = ", ".join(repr(name) for name in names)
        self.status.showMessage(f"Run {runs} stopped unexpectedly (its process ended); "
                                "resume it from its last checkpoint.", 15_000)

    @Slot(QAction)
    def _open_recent(self, action: QAction) -> None:
        path = action.data()
        if path == "clear":
            settings.app_settings().remove(settings.RECENT_KEY)
            self._rebuild_recent_menu()
        elif path:
            self.open_project(path)

    def _rebuild_recent_menu(self) -> None:
        menu = self.actions.recent_menu
        menu.clear()
        recent = settings.recent_projects()
        for path in recent:
            action = menu.addAction(path.replace("&", "&&"))  # "&&" shows "&", not a shortcut mark
            action.setToolTip(plain_tooltip(path))  # else the tooltip is the text, taken for HTML
            action.setData(path)
        if recent:
            menu.addSeparator()
            menu.addAction("Clear Recent Projects").setData("clear")
        menu.setEnabled(bool(recent))

    @Slot()
    def import_text(self) -> bool:
        """Ask for files, then show the import dialog (format, field, cleaning, split, name) for them."""
        return self.data_jobs.choose_files()

    @Slot()
    def export_run(self) -> bool:
        """Export the run selected in the Training panel into a new folder beside the chosen one."""
        run_id = self.panels.training.selected_run()
        if self.store is None or run_id is None:
            errors.show_error(self, "Select a run in the Training panel first, then export it.")
            return False
        run = self.store.get_run(run_id)
        parent = QFileDialog.getExistingDirectory(self, f"Export {run['name']} into folder", str(Path.home()))
        if not parent:
            return False
        existing = {p.name for p in Path(parent).iterdir()} if Path(parent).is_dir() else set()
        out = Path(parent) / _free_name(f"{run['name']}-hf", existing)
        return self.jobs.export_run(run["name"], out) is not None

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

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._after_first_paint)
        return handled

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
        if self.runner.is_busy("train"):
            return ("Training is still running: it will stop and keep a checkpoint at the current step, "
                    "so it can be resumed.")
        task = self.data_jobs.task
        if task is not None and task.job.is_active:
            return f"{task.title} is still running: it will be cancelled, and nothing half-made is kept."
        if self.jobs.active_kinds() & {"export", "import"}:
            return "An export is still being written: closing waits for it to finish."
        if self.runner.is_busy("interactive"):
            return "The running job will be stopped."
        return ""

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
        store = settings.app_settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(STATE_VERSION))

    def _restore_window_state(self) -> None:
        store = settings.app_settings()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, STATE_VERSION)


def _default_size(screen: QScreen | None) -> QSize:
    """The first-run size: DEFAULT_SIZE, made smaller where the screen's free area (less task bars)
    is smaller, e.g. 1366x768 laptops; the saved geometry replaces it on later runs."""
    if screen is None:
        return DEFAULT_SIZE
    free = screen.availableGeometry()
    return DEFAULT_SIZE.boundedTo(QSize(free.width(), free.height() - FRAME_ALLOWANCE))


def _free_name(stem: str, taken: set[str]) -> str:
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    return name
