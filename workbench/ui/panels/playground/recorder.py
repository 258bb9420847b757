"""Keeps what the generation now shown needs for the history: the request (prompt and settings,
the seed already drawn), the weights it used, and each sample's text as it streams in.

Saved when it ends, finished or stopped (a stopped one is marked so), one row per sample
(`core/project/generations.py`); a read-only project keeps nothing and says so. `settings["mode"]`
says what kind of generation it was: "generate" (the panel's Generate), "branch" (continued from an
alternative in the Tokens tab), "side-by-side" (one row per column, with its number in
`settings["column"]`) or "fill-mask" (the text with each mask's best candidate).
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
        self._requested: tuple[str, SampleSpec, str] | None = None  # asked for, not shown yet
        self._request: tuple[str, SampleSpec, str] | None = None  # what the output now shows (prompt, spec, mode)
        self._run: str | None = None
        self._step: int | None = None
        self._texts: dict[int, list[str]] = {}

    def requested(self, prompt: str, spec: SampleSpec, mode: str = "generate") -> None:
        self._requested = (prompt, spec, mode)

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
        prompt, spec, mode = request
        return record(store, self._run, self._step, prompt, spec, texts, outcome == "stopped", mode)


def record(store: ProjectStore | None, run: str | None, step: int | None, prompt: str, spec: SampleSpec | None,
           texts: list[str], stopped: bool, mode: str = "generate", extra: dict[str, Any] | None = None) -> str:
    """Save one generation's samples; returns "" or why it was not saved. `spec` None: fill-mask, whose
    settings are in `extra` (its `top_k`)."""
    if store is None or not texts:
        return ""
    if store.read_only:
        return "The project is read-only, so this generation is not saved in its history."
    run_id = None
    if run is not None:
        found = [r["id"] for r in store.list_runs() if r["name"] == run]
        run_id = found[0] if found else None
    settings: dict[str, Any] = {"mode": mode, **(asdict(spec) if spec is not None else {}), **(extra or {})}
    if stopped:
        settings["stopped"] = True
    try:
        generations.save_generations(store, run_id, step, prompt, settings, texts)
    except WorkbenchError as exc:
        return f"This generation could not be saved in the history: {for_window(str(exc))}"
    return ""
