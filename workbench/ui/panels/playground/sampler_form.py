"""Every sampler setting `workbench generate` takes, with presets (`presets.py`).

The boxes start at `SampleSpec`'s defaults, the command line's too. Stop strings are typed in one
line, separated by `|`; `\\n` stands for a line break, `\\|` for a bar and `\\\\` for a backslash.
"""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from workbench.core.base.specs import SampleSpec
from workbench.ui.panels.playground import presets
from workbench.ui.widgets.forms import plain_label, set_available
from workbench.ui.widgets.plain_text import ask_yes_no

CUSTOM = "custom"
_ESCAPES = {"n": "\n", "t": "\t", "|": "|", "\\": "\\"}


def parse_stops(text: str) -> tuple[str, ...]:
    """`a|b\\n` -> ("a", "b\\n"): `|` separates, backslash escapes; empty entries are dropped."""
    stops, current, chars = [], [], iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "\\")
            current.append(_ESCAPES.get(nxt, "\\" + nxt))
        elif ch == "|":
            stops.append("".join(current))
            current = []
        else:
            current.append(ch)
    stops.append("".join(current))
    return tuple(s for s in stops if s)


def format_stops(stops: tuple[str, ...]) -> str:
    """The inverse of `parse_stops`."""
    def escape(s: str) -> str:
        return re.sub(r"[\\|\n\t]", lambda m: {"\\": "\\\\", "|": "\\|", "\n": "\\n", "\t": "\\t"}[m.group()], s)
    return "|".join(escape(s) for s in stops)


def ask_preset_name(parent: QWidget) -> str | None:
    """The name for a new preset, None when cancelled (tests replace this: a dialog would block)."""
    name, ok = QInputDialog.getText(parent, "Save preset", "Name of the preset:")
    return name if ok else None


def _double(low: float, high: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


class SamplerForm(QWidget):
    """The settings as a `SampleSpec` (`spec()` / `set_spec()`); `changed` on any edit."""

    changed = Signal()
    problem = Signal(str)  # a preset name that cannot be used; "" once it is fine

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("samplerForm")
        self._make_boxes()
        self._make_presets()
        self._lay_out()
        self.set_spec(SampleSpec())
        for box in self._boxes():
            signal = box.textChanged if isinstance(box, QLineEdit) else box.valueChanged
            signal.connect(self._edited)

    def _make_boxes(self) -> None:
        self.max_tokens = QSpinBox()
        self.max_tokens.setObjectName("maxTokensSpin")
        self.max_tokens.setRange(1, 100_000)
        self.max_tokens.setToolTip("At most this many new tokens per sample")
        self.temperature = _double(0.0, 5.0, 0.1)
        self.temperature.setObjectName("temperatureSpin")
        self.temperature.setToolTip("0 always picks the most likely token; higher is more adventurous")
        self.top_k = QSpinBox()
        self.top_k.setObjectName("topKSpin")
        self.top_k.setRange(0, 100_000)
        self.top_k.setSpecialValueText("off")
        self.top_k.setToolTip("Draw only from the k most likely tokens (off: all)")
        self.top_p = _double(0.01, 1.0, 0.05)
        self.top_p.setObjectName("topPSpin")
        self.top_p.setToolTip("Nucleus: draw from the most likely tokens whose probabilities add up to this")
        self.min_p = _double(0.0, 1.0, 0.01, 3)
        self.min_p.setObjectName("minPSpin")
        self.min_p.setSpecialValueText("off")
        self.min_p.setToolTip("Drop tokens less likely than this fraction of the most likely one")
        self.repetition = _double(0.5, 3.0, 0.05)
        self.repetition.setObjectName("repetitionPenaltySpin")
        self.repetition.setToolTip("Above 1 makes tokens already in the text less likely")
        self.stops = QLineEdit()
        self.stops.setObjectName("stopStringsEdit")
        self.stops.setPlaceholderText("none")
        self.stops.setToolTip("Stop when one of these appears; separate them with |, write \\n for a line break")
        self.num_samples = QSpinBox()
        self.num_samples.setObjectName("numSamplesSpin")
        self.num_samples.setRange(1, 64)
        self.num_samples.setToolTip("How many continuations to draw, one after the other")
        self.seed = QSpinBox()
        self.seed.setObjectName("playgroundSeed")
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("random")
        self.seed.setToolTip("The same seed, prompt and settings give the same text; 'random' picks a new one each time")
        for box in self._boxes():
            if isinstance(box, QAbstractSpinBox):
                box.setKeyboardTracking(False)  # one change per typed number, not per digit

    def _boxes(self) -> tuple[QWidget, ...]:
        return (self.max_tokens, self.temperature, self.top_k, self.top_p, self.min_p, self.repetition,
                self.stops, self.num_samples, self.seed)

    def _make_presets(self) -> None:
        self.preset = QComboBox()
        self.preset.setObjectName("samplerPreset")
        self.preset.setToolTip("Greedy, balanced, creative or your own: sets temperature, top-k, top-p, "
                               "min-p and repetition penalty")
        self.preset.activated.connect(self._preset_chosen)
        self.save_preset = QPushButton("Save…")
        self.save_preset.setObjectName("savePresetButton")
        self.save_preset.setToolTip("Save these sampler settings as a preset of your own")
        self.save_preset.clicked.connect(self._save_preset)
        self.delete_preset = QPushButton("Delete")
        self.delete_preset.setObjectName("deletePresetButton")
        self.delete_preset.clicked.connect(self._delete_preset)

    def _lay_out(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset, 1)
        preset_row.addWidget(self.save_preset)
        preset_row.addWidget(self.delete_preset)
        # Three rows of four: at five a row the form alone was 850 px wide and the window could not
        # shrink to a 1024-px screen with every dock shown.
        cells = (("Preset", preset_row), ("Tokens", self.max_tokens), ("Samples", self.num_samples),
                 ("Seed", self.seed),
                 ("Temperature", self.temperature), ("Top-k", self.top_k), ("Top-p", self.top_p),
                 ("Min-p", self.min_p), ("Repetition", self.repetition), ("Stop at", self.stops))
        for i, (label, item) in enumerate(cells):
            row, column = divmod(i, 4)
            grid.addWidget(plain_label(label, wrap=False), row, 2 * column)
            span = 5 if item is self.stops else 1  # the stop strings take the rest of their row
            if isinstance(item, QHBoxLayout):
                grid.addLayout(item, row, 2 * column + 1)
            else:
                grid.addWidget(item, row, 2 * column + 1, 1, span)
        for column in range(1, 8, 2):
            grid.setColumnStretch(column, 1)

    # ---- the settings --------------------------------------------------------------------------

    def spec(self) -> SampleSpec:
        seed = self.seed.value()
        return SampleSpec(max_new_tokens=self.max_tokens.value(), temperature=round(self.temperature.value(), 3),
                          top_k=self.top_k.value(), top_p=round(self.top_p.value(), 3),
                          min_p=round(self.min_p.value(), 3), repetition_penalty=round(self.repetition.value(), 3),
                          stop=parse_stops(self.stops.text()), num_samples=self.num_samples.value(),
                          seed=None if seed < 0 else seed)

    def set_spec(self, spec: SampleSpec) -> None:
        """Show `spec` (a history entry, the defaults); one `changed` at the end."""
        for box in self._boxes():
            box.blockSignals(True)
        try:
            self.max_tokens.setValue(spec.max_new_tokens)
            self.temperature.setValue(spec.temperature)
            self.top_k.setValue(spec.top_k)
            self.top_p.setValue(spec.top_p)
            self.min_p.setValue(spec.min_p)
            self.repetition.setValue(spec.repetition_penalty)
            self.stops.setText(format_stops(tuple(spec.stop)))
            self.num_samples.setValue(spec.num_samples)
            self.seed.setValue(-1 if spec.seed is None else spec.seed)
        finally:
            for box in self._boxes():
                box.blockSignals(False)
        self._edited()

    # ---- presets -------------------------------------------------------------------------------

    def fill_presets(self) -> None:
        """List the presets and show the one the settings match (or "custom")."""
        self.preset.blockSignals(True)
        self.preset.clear()
        for name in presets.all_presets():
            self.preset.addItem(name, name)
        self.preset.addItem(CUSTOM, "")
        matching = presets.matching_preset(self.spec())
        self.preset.setCurrentIndex(self.preset.findData(matching) if matching else self.preset.count() - 1)
        self.preset.blockSignals(False)
        user = matching in presets.user_presets()
        set_available(self.delete_preset, user, "Only presets you saved can be deleted",
                      f"Delete the preset {matching!r}")

    @Slot()
    def _edited(self) -> None:
        self.fill_presets()
        self.changed.emit()

    @Slot(int)
    def _preset_chosen(self, index: int) -> None:
        values = presets.all_presets().get(self.preset.itemData(index) or "")
        if values is not None:
            self.set_spec(replace(self.spec(), **values))

    @Slot()
    def _save_preset(self) -> None:
        name = ask_preset_name(self)
        if name is None:
            return
        problem = presets.save_preset(name, self.spec())
        self.problem.emit(problem)
        self.fill_presets()

    @Slot()
    def _delete_preset(self) -> None:
        name = self.preset.currentData() or ""
        if name in presets.user_presets() and ask_yes_no(self, "Delete preset", f"Delete the preset {name!r}?"):
            presets.delete_preset(name)
            self.fill_presets()
