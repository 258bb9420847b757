"""The model panel's last settings: in the project (those of its last started run) and in QSettings.

A project remembers the settings its last run was started with (the `meta` table), so reopening it
shows them again; the application remembers the latest edits, for a project that has no run yet.
What cannot be read back (an older or damaged entry) is ignored: the form keeps its defaults.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.specs import ModelSpec, TrainSpec, spec_from_dict, spec_to_dict
from workbench.core.project.store import ProjectStore
from workbench.ui import settings

log = logging.getLogger(__name__)

META_KEY = "ui.model_panel"
SETTINGS_KEY = "modelPanel/last"
VERSION = 1


@dataclass(frozen=True)
class PanelState:
    model: ModelSpec
    train: TrainSpec
    dataset: str = ""
    tokenizer: str = ""  # "" = automatic
    init_kind: str = "scratch"  # "scratch" | "folder" | "hub"

    def to_json(self) -> str:
        return json.dumps({"version": VERSION, "model": spec_to_dict(self.model), "train": spec_to_dict(self.train),
                           "dataset": self.dataset, "tokenizer": self.tokenizer, "init_kind": self.init_kind})

    @classmethod
    def from_json(cls, text: Any) -> PanelState | None:
        if not isinstance(text, str) or not text:
            return None
        try:
            data = json.loads(text)
            model = spec_from_dict(ModelSpec, data["model"])
            train = spec_from_dict(TrainSpec, data["train"])
            return cls(model, train, str(data.get("dataset") or ""), str(data.get("tokenizer") or ""),
                       str(data.get("init_kind") or "scratch"))
        except (ValueError, KeyError, TypeError, InvalidSpecError) as exc:
            log.info("ignoring saved model panel settings: %s", exc)
            return None


def load(store: ProjectStore | None) -> PanelState | None:
    """The project's settings, else the application's latest, else None."""
    if store is not None:
        try:
            state = PanelState.from_json(store.get_meta(META_KEY))
        except WorkbenchError as exc:
            log.warning("cannot read the model settings of %s: %s", store.root, exc)
            state = None
        if state is not None:
            return state
    return PanelState.from_json(settings.app_settings().value(SETTINGS_KEY, ""))


def remember(state: PanelState) -> None:
    """Keep the latest edits in the application's settings."""
    settings.app_settings().setValue(SETTINGS_KEY, state.to_json())


def save(store: ProjectStore | None, state: PanelState) -> None:
    """Keep `state` as the settings of the project's last run (and as the latest edits)."""
    remember(state)
    if store is not None:
        try:
            store.set_meta(META_KEY, state.to_json())
        except WorkbenchError as exc:  # e.g. a read-only project: starting the run reports it to the user
            log.warning("cannot save the model settings in %s: %s", store.root, exc)
