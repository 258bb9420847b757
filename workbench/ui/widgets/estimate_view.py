"""What a training run will cost: parameters, memory by part, FLOPs, time per step and for the run.

Fed with plain numbers (`estimates.Estimate` as a dict, seconds per step), so it never needs torch.
Whether the run fits the device's memory is said in words, in a warning colour when it does not.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from workbench.core.base.specs import TrainSpec
from workbench.ui.theme import is_dark
from workbench.ui.widgets.forms import human_count, plain_label
from workbench.ui.widgets.spec_form import for_form

ROWS = (("params", "Parameters"), ("weights", "Weights"), ("grads", "Gradients"), ("optimizer", "Optimizer (AdamW)"),
        ("activations", "Activations"), ("total", "Memory in all"), ("flops", "Compute"),
        ("step_time", "Time per step"), ("run_time", "Whole run"))
WARNING_COLORS = {False: "#b3261e", True: "#ff8a80"}  # light, dark
OK_COLORS = {False: "#1b6e2e", True: "#7ee0a0"}


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for limit, unit in ((2**40, "TB"), (2**30, "GB"), (2**20, "MB"), (2**10, "KB")):
        if n >= limit:
            return f"{n / limit:.1f} {unit}"
    return f"{n:.0f} B"


def human_flops(n: float) -> str:
    for limit, prefix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            return f"{n / limit:.1f} {prefix}FLOP"
    return f"{n:.0f} FLOP"


def human_seconds(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    if s < 2 * 3600:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


class EstimateView(QWidget):
    """objectName `estimateView`; value labels `estimate_<key>` for the keys of ROWS, and `fitWarning`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("estimateView")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.values: dict[str, QLabel] = {}
        for key, title in ROWS:
            label = plain_label("-")
            label.setObjectName(f"estimate_{key}")
            self.values[key] = label
            form.addRow(title, label)
        self.fit = plain_label("")
        self.fit.setObjectName("fitWarning")
        self.notes = plain_label("")
        self.notes.setObjectName("estimateNotes")
        form.addRow(self.fit)
        form.addRow(self.notes)
        self.form = form
        self._fits: bool | None = None
        self.set_message("")

    # ---- what the panel shows ------------------------------------------------------------------

    def set_message(self, text: str) -> None:
        """No numbers (no project, invalid settings, not computed yet): dashes and `text`."""
        for label in self.values.values():
            label.setText("-")
        self._set_fit(None, text)
        self.notes.setText("")

    def set_pending(self) -> None:
        for key in ("params", "weights", "grads", "optimizer", "activations", "total", "flops"):
            self.values[key].setText("…")
        self.set_time_pending()
        self._set_fit(None, "")
        self.notes.setText("")

    def set_time_pending(self, text: str = "measuring…") -> None:
        self.values["step_time"].setText(text)
        self.values["run_time"].setText("…" if text == "measuring…" else "-")

    def show_estimate(self, numbers: dict[str, Any], train: TrainSpec, block_size: int, vocab_exact: bool = True) -> None:
        params = int(numbers["params"])
        guess = "" if vocab_exact else " (vocabulary guessed)"
        self.values["params"].setText(f"{params:,} ({human_count(params)}){guess}")
        for key in ("weights", "grads", "optimizer", "activations", "total"):
            self.values[key].setText(human_bytes(numbers[f"{key}_bytes"]))
        flops = float(numbers["flops_per_token"])
        tokens = train.batch_size * train.grad_accum * block_size
        self.values["flops"].setText(f"{human_flops(flops)} per token, {human_flops(flops * tokens)} per step")
        available = numbers.get("device_memory_bytes")
        fits = numbers.get("fits")
        notes = list(numbers.get("notes") or ())
        if fits is False:
            warning = next((n for n in notes if n.startswith("needs about")), "")
            notes = [n for n in notes if n != warning]
            reason = for_form(warning)
            self._set_fit(False, f"Will not fit: {reason[:1].lower()}{reason[1:]}" if warning
                          else "Will not fit in memory.")
        elif fits and available:
            self._set_fit(True, f"Fits: {human_bytes(numbers['total_bytes'])} of {human_bytes(available)} available.")
        else:
            self._set_fit(None, "")
        self.notes.setText("\n".join(f"• {for_form(n)}" for n in notes))

    def show_time(self, seconds_per_step: float | None, train: TrainSpec, detail: str = "",
                  run_seconds: float | None = None) -> None:
        if seconds_per_step is None:
            self.set_time_pending(detail or "-")
            return
        self.values["step_time"].setText(f"{human_seconds(seconds_per_step)}" + (f" ({detail})" if detail else ""))
        total = run_seconds if run_seconds is not None else seconds_per_step * train.max_steps
        self.values["run_time"].setText(f"about {human_seconds(total)} for {train.max_steps:,} steps "
                                        "with evaluations")

    def text(self, key: str) -> str:
        return self.values[key].text()

    @property
    def fits(self) -> bool | None:
        return self._fits

    # ---- colours -------------------------------------------------------------------------------

    def _set_fit(self, fits: bool | None, text: str) -> None:
        self._fits = fits
        self.fit.setText(text)
        self.fit.setVisible(bool(text))
        self._recolor()

    def _recolor(self) -> None:
        dark = is_dark(self.palette())
        color = {False: WARNING_COLORS[dark], True: OK_COLORS[dark]}.get(self._fits)
        self.fit.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "fit"):
            self._recolor()
