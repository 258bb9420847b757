"""What the user can do with a run: resume, clone its settings, rename, delete, open its folder,
pin or unpin one of its checkpoints (the "Pin Checkpoint" submenu lists them when it opens).

The same QActions fill the runs table's context menu and the "Run" button's menu; each is enabled
only when it applies to the selected run, and otherwise says why in its tooltip. Rename and delete
are core operations (`core.ops.run_lifecycle`) done here; resuming and cloning reach other parts
of the window, so they are signals that the main window connects.

The questions go through `ask_max_steps` / `ask_new_name` / `plain_text.ask_yes_no`, the functions
tests replace so that no dialog blocks.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.core.ops.run_lifecycle import delete_run, rename_run, resumable, run_disk_usage, run_folder
from workbench.core.project.checkpoint_history import set_pinned
from workbench.core.project.store import ProjectStore
from workbench.ui import crash_dialog, errors
from workbench.ui.widgets.forms import human_count
from workbench.ui.widgets.plain_text import ask_yes_no, plain_tooltip

MAX_STEPS_LIMIT = 10_000_000


def ask_max_steps(parent: QWidget, run: dict[str, Any], current: int) -> int | None:
    """The new max steps for resuming `run` (at least its step), or None when cancelled."""
    value, ok = QInputDialog.getInt(parent, "Resume Run", f"Train {run['name']} up to step:", current,
                                    max(int(run["step"]), 1), MAX_STEPS_LIMIT, 100)
    return value if ok else None


def ask_new_name(parent: QWidget, run: dict[str, Any]) -> str | None:
    text, ok = QInputDialog.getText(parent, "Rename Run", "New name:", QLineEdit.EchoMode.Normal, run["name"])
    return text if ok else None


class RunActions(QObject):
    """`resumeRequested(run id, max steps)`, `cloneRequested(run id)`; `changed()` after a rename or
    a delete (the table and the other panels reload); `pinChanged(run id, step, pinned)`."""

    resumeRequested = Signal(int, int)
    cloneRequested = Signal(int)
    changed = Signal()
    pinChanged = Signal(int, int, bool)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._widget = parent
        self._store: ProjectStore | None = None
        self._run: dict[str, Any] | None = None
        self._live_run: int | None = None
        self._training_here = False
        self.resume = self._action("Resume…", "resumeRunAction", self._resume)
        self.clone = self._action("Clone Settings into Model", "cloneRunAction", self._clone)
        self.rename = self._action("Rename…", "renameRunAction", self._rename)
        self.delete = self._action("Delete…", "deleteRunAction", self._delete)
        self.open_folder = self._action("Open Run Folder", "openRunFolderAction", self._open_folder)
        self.menu = QMenu(parent)
        self.menu.setToolTipsVisible(True)  # a disabled action says why
        for action in self.all():
            self.menu.addAction(action)
        self.pins = QMenu("Pin Checkpoint", self.menu)
        self.pins.setObjectName("pinCheckpointMenu")
        self.pins.setToolTipsVisible(True)
        self.pins.aboutToShow.connect(self.fill_pins)
        self.menu.addMenu(self.pins)
        self.update(None, None, False)

    def _action(self, text: str, name: str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.triggered.connect(slot)
        return action

    def all(self) -> tuple[QAction, ...]:
        return self.resume, self.clone, self.rename, self.delete, self.open_folder

    # ---- state ---------------------------------------------------------------------------------

    def set_store(self, store: ProjectStore | None) -> None:
        self._store = store

    def update(self, run: dict[str, Any] | None, live_run: int | None, training_here: bool) -> None:
        """Enable each action for `run` (None: none selected), `live_run` being trained in this window."""
        self._run, self._live_run, self._training_here = run, live_run, training_here
        for action, reason, tip in self._reasons():
            action.setEnabled(not reason)
            action.setToolTip(plain_tooltip(reason or tip))
            action.setStatusTip(reason or tip)
        store = self._store
        pin_reason = ("Select a run first." if run is None or store is None else
                      "The project is read-only here." if store.read_only else "")
        self.pins.menuAction().setEnabled(not pin_reason)
        self.pins.menuAction().setStatusTip(pin_reason or "Keep a checkpoint whatever the retention policy removes")

    def _reasons(self) -> list[tuple[QAction, str, str]]:
        run, store = self._run, self._store
        if run is None or store is None:
            none = "Select a run first."
            return [(action, none, "") for action in self.all()]
        read_only = f"The project is read-only here: {run['name']} cannot be changed." if store.read_only else ""
        trained = run["id"] == self._live_run or run["status"] in ("running", "paused")
        busy = f"{run['name']} is being trained; stop it first." if trained else ""
        if self._training_here and not busy:
            resume_reason = "Another run is training in this window; wait for it or stop it."
        elif not resumable(run):
            resume_reason = busy or f"A {run['status']} run cannot be resumed; clone its settings into a new run."
        else:
            resume_reason = read_only
        return [
            (self.resume, resume_reason, "Go on training from the last checkpoint, up to a step you choose"),
            (self.clone, "", "Copy this run's dataset, tokenizer and settings into the Model panel"),
            (self.rename, read_only, "Give the run another name"),
            (self.delete, read_only or busy, "Delete the run with its checkpoints and curves"),
            (self.open_folder, "", "Show the run's folder (checkpoints, snapshots) in the file manager"),
        ]

    # ---- the actions ---------------------------------------------------------------------------

    def fill_pins(self) -> None:
        """List the run's checkpoints, each checked when pinned; toggling one pins or unpins it."""
        self.pins.clear()
        run, store = self._run, self._store
        rows = []
        if run is not None and store is not None:
            try:
                rows = store.list_checkpoints(run["id"])
            except WorkbenchError:  # deleted meanwhile
                rows = []
        for row in rows:
            loss = f" (val loss {row['val_loss']:.4g})" if row.get("val_loss") is not None else ""
            action = self.pins.addAction(f"Step {row['step']}{loss}")
            action.setCheckable(True)
            action.setChecked(bool(row.get("pinned")))
            action.setData(int(row["step"]))
            action.toggled.connect(lambda on, step=int(row["step"]): self.pin(step, on))
        if not rows:
            self.pins.addAction("No checkpoint kept yet").setEnabled(False)

    def pin(self, step: int, pinned: bool) -> bool:
        """Pin (or unpin) the selected run's checkpoint of `step`; an error is shown and False."""
        run, store = self._run, self._store
        if run is None or store is None:
            return False
        try:
            set_pinned(store, run["id"], step, pinned)
        except WorkbenchError as exc:
            errors.show_error(self._widget, str(exc))
            return False
        self.pinChanged.emit(run["id"], step, pinned)
        return True

    def _resume(self) -> None:
        run = self._run
        if run is None:
            return
        current = int((run.get("train_spec") or {}).get("max_steps", run["step"]))
        if run["status"] == "finished" or current <= run["step"]:
            current = max(current, int(run["step"])) * 2  # a finished run needs more steps to go on
        steps = ask_max_steps(self._widget, run, current)
        if steps is not None:
            self.resumeRequested.emit(run["id"], steps)

    def _clone(self) -> None:
        if self._run is not None:
            self.cloneRequested.emit(self._run["id"])

    def _rename(self) -> None:
        run, store = self._run, self._store
        if run is None or store is None:
            return
        name = ask_new_name(self._widget, run)
        if name is None or name.strip() == run["name"]:
            return
        try:
            rename_run(store, run["id"], name)
        except WorkbenchError as exc:
            errors.show_error(self._widget, str(exc))
            return
        self.changed.emit()

    def _delete(self) -> None:
        run, store = self._run, self._store
        if run is None or store is None:
            return
        try:
            size = run_disk_usage(store, run["id"])
        except WorkbenchError as exc:
            errors.show_error(self._widget, str(exc))
            return
        question = (f"Delete run {run['name']} with its checkpoints, curves and samples? This frees "
                    f"{human_count(size, 'B')} of disk space and cannot be undone.")
        if not ask_yes_no(self._widget, "Delete Run", question):
            return
        try:
            delete_run(store, run["id"])
        except WorkbenchError as exc:  # e.g. a process began training it meanwhile
            errors.show_error(self._widget, str(exc))
        self.changed.emit()

    def _open_folder(self) -> None:
        if self._run is None or self._store is None:
            return
        try:
            folder = run_folder(self._store, self._run)
        except WorkbenchError as exc:
            errors.show_error(self._widget, str(exc))
            return
        if not crash_dialog.open_folder(folder):
            errors.show_error(self._widget, f"The folder {folder} could not be opened.")
