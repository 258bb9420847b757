"""The window's words for a read-only project (a read-only mount, a shared drive, or a project that
another window of the app has open).

Such a project opens for browsing: runs, curves, the playground, attention and export all work;
what would write to it is disabled, and its tooltip says why with `read_only_reason`.
"""

from __future__ import annotations

from typing import Any


def read_only_reason(store: Any, what: str) -> str:
    """"" unless `store` is a read-only project; then why `what` ("Importing") is not possible."""
    if store is None or not getattr(store, "read_only", False):
        return ""
    if getattr(store, "open_elsewhere", False):
        return (f"{what} is not possible: this project is open in another LM Workbench window, so it is "
                "read-only here (two windows writing one project could overwrite each other's changes). "
                "Close it in the other window, then open it again here to change it.")
    return (f"{what} is not possible: this project is read-only (its folder cannot be written). "
            "Copy the project folder somewhere writable and open the copy to change it.")
