"""The window's panels as the job wiring sees them (the controllers and wirings take this, not the
window, so tests can build them from panels alone)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.ui.panels.attention.panel import AttentionPanel
from workbench.ui.panels.dataset.panel import DatasetPanel
from workbench.ui.panels.model.panel import ModelPanel
from workbench.ui.panels.playground.panel import PlaygroundPanel
from workbench.ui.panels.training.panel import TrainingPanel


@dataclass
class Panels:
    dataset: DatasetPanel
    model: ModelPanel
    training: TrainingPanel
    attention: AttentionPanel
    playground: PlaygroundPanel

    def all(self) -> tuple:
        return self.dataset, self.model, self.training, self.attention, self.playground
