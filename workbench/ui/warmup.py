"""Warm-up after the window is painted: import PyTorch and transformers on a background job.

Yields a `Notice` before each slow import (the status bar shows it), then loads every engine and
returns which are usable; `describe_device` names the compute device once torch is loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from typing import Any

from workbench.core.base.events import Notice
from workbench.ui.jobs.backends import ENGINES, heavy_imports


def _import_torch() -> None:
    with heavy_imports():
        import torch  # noqa: F401


def _import_transformers() -> None:
    with heavy_imports():
        import transformers  # noqa: F401


# (module, label for the status bar, what imports it): the name only tells whether it is loaded yet.
HEAVY_MODULES: tuple[tuple[str, str, Callable[[], None]], ...] = (
    ("torch", "PyTorch", _import_torch), ("transformers", "transformers", _import_transformers))


def warm_up(modules: tuple[tuple[str, str, Callable[[], None]], ...] = HEAVY_MODULES,
            check_engines: bool = True) -> Generator[Notice, None, dict[str, dict[str, str]]]:
    """Returns {"engines": {key: "" when usable, else why not}}.

    It does not touch torch's thread count: the training engine sets it once, before its first
    torch work, leaving a core for the GUI (DESIGN.md section 3)."""
    for module, label, load in modules:
        if module not in sys.modules:
            yield Notice(f"Loading {label}…", level="info")
            load()
    engines: dict[str, str] = {}
    if check_engines:
        for engine in ENGINES:
            yield Notice(f"Loading {engine.key}…", level="info")
            engines[engine.key] = engine.problem()
    return {"engines": engines}


def describe_device() -> str:
    """The compute device training would use by default, in words (without importing torch)."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return "CPU (PyTorch not loaded yet)"
    try:
        if torch.cuda.is_available():
            return f"CUDA GPU: {torch.cuda.get_device_name(0)}"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "Apple GPU (MPS)"
    except Exception:  # a broken driver must not stop the window; CPU still works
        pass
    return "CPU"
