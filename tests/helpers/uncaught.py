"""Uncaught exceptions the way the app meets them: one in the GUI thread, one in a worker thread."""

from __future__ import annotations

import sys
import threading


def raise_uncaught_twice(main_message: str, thread_message: str = "thread blew up") -> None:
    """Hand a RuntimeError to sys.excepthook (as Qt does for a slot) and let a ValueError escape a
    thread named "doomed" (threading.excepthook); the installed hook sees both."""
    try:
        raise RuntimeError(main_message)
    except RuntimeError:
        sys.excepthook(*sys.exc_info())

    def worker() -> None:
        raise ValueError(thread_message)

    thread = threading.Thread(target=worker, name="doomed")
    thread.start()
    thread.join()
