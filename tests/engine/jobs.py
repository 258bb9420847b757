"""Plain-Python generators standing in for core operations in engine and UI tests.

Importable from every test module as `engine.jobs`: pytest puts tests/ on sys.path for tests/conftest.py.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from workbench.core.base.errors import WorkbenchError


@dataclass
class Probe:
    """What a test generator saw: how far it got, whether its `finally` ran, on which thread."""

    yielded: int = 0
    closed: bool = False
    thread_name: str = ""
    thread_id: int = 0
    started: threading.Event = field(default_factory=threading.Event)


def counting(probe: Probe, n: int | None, delay_s: float = 0.0, result: object = "done"):
    """Yields 0, 1, 2, ... (forever when n is None); returns `result`; records its `finally`."""
    probe.thread_name = threading.current_thread().name
    probe.thread_id = threading.get_ident()
    probe.started.set()
    try:
        i = 0
        while n is None or i < n:
            yield i
            probe.yielded += 1
            i += 1
            if delay_s:
                time.sleep(delay_s)
        return result
    finally:
        probe.closed = True


def failing(probe: Probe, exc: BaseException, after: int = 2):
    try:
        for i in range(after):
            yield i
            probe.yielded += 1
        raise exc
    finally:
        probe.closed = True


def user_error(message: str = "the dataset is empty; import a text file first") -> WorkbenchError:
    return WorkbenchError(message)
