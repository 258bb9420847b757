"""Opening a project in a window: writable under the project's window lock, or read-only when another
window of the app already has it open and the user agrees (`core.project.window_lock`).

The command line neither takes nor checks the window lock, so `workbench train` into a project a
window has open stays allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.core.project.store import ProjectStore
from workbench.core.project.window_lock import (
    ProjectOpenElsewhereError,
    WindowLock,
    holder_words,
    take_window_lock,
)
from workbench.ui import settings
from workbench.ui.widgets import plain_text

Button = QMessageBox.StandardButton


def ask_open_read_only(parent: QWidget | None, name: str, owner: dict[str, Any] | None) -> bool:
    """Say that project `name` is open in another window and offer to view it read-only; True for
    "Open Read-Only" (the default), False for Cancel. Plain text: the name and host come from files."""
    who = holder_words(owner)
    text = (f"The project “{name}” is already open in another {settings.APP_NAME} window"
            f"{f' ({who})' if who else ''}.")
    box = plain_text.plain_message_box(parent, "Project Already Open", text, QMessageBox.Icon.Question,
                                       Button.Open | Button.Cancel, Button.Open)
    box.setObjectName("projectInUseDialog")
    box.setInformativeText("Two windows writing one project could overwrite each other's changes. Open it "
                           "read-only here to browse its runs, generate text, look at attention and export "
                           "runs; to change it, use the other window.")
    open_button = box.button(Button.Open)
    open_button.setText("Open Read-Only")
    open_button.setObjectName("openReadOnlyButton")
    return plain_text.exec_box(box) == Button.Open


@dataclass(frozen=True)
class Claim:
    """How a window may open one project: under `lock` (None where none can be made), or read-only
    because another window has it (`elsewhere`). `new`: the lock was taken for this opening, not
    kept from the project the window has open now."""

    lock: WindowLock | None = None
    elsewhere: bool = False
    new: bool = False

    def open(self, path: str | Path) -> tuple[ProjectStore, WindowLock | None]:
        """The store and the lock the window keeps with it; a `WorkbenchError` drops a new lock."""
        if self.elsewhere:
            store = ProjectStore.open(path, read_only=True)
            store.open_elsewhere = True
            return store, None
        try:
            store = ProjectStore.open(path)
        except BaseException:
            self.drop()
            raise
        if store.read_only and self.lock is not None:  # an unwritable folder: nobody can write it
            self.lock.release()
            return store, None
        return store, self.lock

    def drop(self) -> None:
        """Give back a lock taken for an opening that did not happen."""
        if self.new and self.lock is not None:
            self.lock.release()


def claim_project(parent: QWidget | None, path: str | Path, held: WindowLock | None) -> Claim | None:
    """Take the window lock of the project at `path` or, where another window holds it, ask whether
    to open it read-only; None when the user cancels. `held` is the lock the window holds now:
    reopening that same project keeps it."""
    root = Path(path)
    if held is not None and held.held and held.root == root.resolve():
        return Claim(held)
    try:
        lock = take_window_lock(root)
    except ProjectOpenElsewhereError as exc:
        return Claim(elsewhere=True) if ask_open_read_only(parent, root.name, exc.owner) else None
    return Claim(lock, new=True)
