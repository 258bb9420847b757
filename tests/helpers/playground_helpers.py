"""Steps the playground window tests share: open a project with the choosers' watch stopped, and run
one generation from the panel to its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_playground(window: Any, root: Path) -> Any:
    """The window's playground on `root`, its 2 s chooser refresh off (tests refresh it themselves)."""
    assert window.open_project(root)
    playground = window.panels.playground
    playground.watch.timer.stop()
    return playground


def generate(qtbot: Any, window: Any, prompt: str) -> None:
    """Generate from `prompt` with the panel's settings and wait until the generation is over."""
    playground = window.panels.playground
    playground.prompt_edit.setPlainText(prompt)
    assert playground.request_generation()
    qtbot.waitUntil(lambda: "generate" not in window.jobs.active_kinds() and bool(playground.summary.text()),
                    timeout=120_000)
