"""Keeps what the generation now shown needs for the history: the request (prompt and settings,
the seed already drawn), the weights it used, and each sample's text as it streams in.

Saved when it ends, finished or stopped (a stopped one is marked so), one row per sample
(`core/project/generations.py`); a read-only project keeps nothing and says so.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import TokenGenerated
from workbench.core.base.specs import SampleSpec
from workbench.core.project import generations
from workbench.core.project.store import ProjectStore
from workbench.ui.wording import for_window


class GenerationRecorder:
    def __init__(self) -> None:
        self._requested: tuple[str, SampleSpec] | None = None  # asked for, not shown yet
        self._request: tuple[str, SampleSpec] | None = None  # what the output now shows
        self._run: str | None = None
        self._step: int | None = None
        self._texts: dict[int, list[str]] = {}

    def requested(self, prompt: str, spec: SampleSpec) -> None:
        self._requested = (prompt, spec)

    def begin(self) -> None:
        """The output was cleared for a new generation: it is the one last requested, if any."""
        self._request, self._requested = self._requested, None
        self._run = self._step = None
        self._texts = {}

    def used(self, run: str, step: int) -> None:
        self._run, self._step = run, step

    def add(self, event: TokenGenerated) -> None:
        self._texts.setdefault(event.sample, []).append(event.text)

    def finish(self, store: ProjectStore | None, outcome: str) -> str:
        """Save the generation (finished or stopped); returns "" or why it was not saved."""
        request, self._request = self._request, None
        if request is None or store is None or outcome not in ("finished", "stopped") or not self._texts:
            return ""
        texts = ["".join(self._texts[i]) for i in sorted(self._texts)]
        return record(store, self._run, self._step, request[0], request[1], texts, outcome == "stopped")


def record(store: ProjectStore | None, run: str | None, step: int | None, prompt: str, spec: SampleSpec,
           texts: list[str], stopped: bool) -> str:
    """Save one generation's samples; returns "" or why it was not saved."""
    if store is None or not texts:
        return ""
    if store.read_only:
        return "The project is read-only, so this generation is not saved in its history."
    run_id = None
    if run is not None:
        found = [r["id"] for r in store.list_runs() if r["name"] == run]
        run_id = found[0] if found else None
    settings: dict[str, Any] = {"mode": "generate", **asdict(spec)}
    if stopped:
        settings["stopped"] = True
    try:
        generations.save_generations(store, run_id, step, prompt, settings, texts)
    except WorkbenchError as exc:
        return f"This generation could not be saved in the history: {for_window(str(exc))}"
    return ""
