"""Small helpers shared by the panels: section titles, plain-text labels, availability of buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractButton, QComboBox, QFormLayout, QLabel, QWidget

from workbench.ui.widgets.plain_text import plain_tooltip


def plain_label(text: str = "", parent: QWidget | None = None, *, wrap: bool = True) -> QLabel:
    """A label that never interprets its text as HTML (it may show user-provided names)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setText(text)
    return label


def section_title(text: str, parent: QWidget | None = None) -> QLabel:
    label = plain_label(text, parent, wrap=False)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


def align_form_labels(*forms: QFormLayout) -> None:
    """Give the label column of several forms one width, so their fields line up."""
    labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget() for form in forms for row in range(form.rowCount())
              if form.itemAt(row, QFormLayout.ItemRole.LabelRole) is not None]
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)


def set_available(button: QAbstractButton, available: bool, reason: str, tooltip: str = "") -> None:
    """Enable `button`, or disable it with a tooltip that says why (never a silent grey button)."""
    button.setEnabled(available)
    button.setToolTip(plain_tooltip(tooltip if available else reason))  # reasons quote names


def human_count(n: int | float | None, unit: str = "") -> str:
    """"1.2 kB", "512 B", "1.0 M chars", "8 chars": a word unit is passed with its space (" chars"),
    and a small number gets one space before the unit, never two."""
    if n is None:
        return "-"
    n = float(n)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.1f} {suffix}{unit}".rstrip()
    return f"{n:.0f} {unit.lstrip()}".rstrip()


def fill_run_combo(combo: QComboBox, runs: list[dict]) -> None:
    """List runs as "name (arch, step N)" with the name as item data; keep the selected run if it is
    still there, else select the newest. Emits no change signals while it fills."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for r in runs:
        combo.addItem(f"{r['name']} ({r['arch']}, step {r['step']})", r["name"])
    index = combo.findData(current)
    combo.setCurrentIndex(index if index >= 0 else combo.count() - 1)
    combo.blockSignals(False)


def duration_text(seconds: float | None) -> str:
    """"1 min 05 s", "2 h 03 min"; "-" when unknown (a run's duration, a time left)."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
