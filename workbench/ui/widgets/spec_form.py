"""Form fields for specs: spin boxes, a learning-rate box, combos, and marking a field as invalid.

The rules live in the specs' `validate()` (and the core's cross checks); their messages name the
command-line flag at fault (`--n-embd`). `fields_named_in` finds the fields a message is about, and
`for_form` rewrites the flags into the form's own words, so the GUI explains a problem the way the
command line does without a second copy of the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from workbench.core.base.errors import InvalidSpecError
from workbench.ui.theme import is_dark
from workbench.ui.widgets.plain_text import plain_tooltip
from workbench.ui.wording import for_window

INVALID_PROPERTY = "invalid"
FRAME_COLORS = {False: "#d32f2f", True: "#ff6b6b"}  # light, dark
MIN_COMBO_CHARS = 8

# (what a core message says, the field key it is about); first match per key wins. The flags' words
# for the form come from `workbench.ui.wording`, the one mapping every window message uses.
MESSAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("--n-layer", "n_layer"),
    ("--n-head", "n_head"),
    ("key/value heads", "n_kv_head"),
    ("grouped-query attention", "n_kv_head"),
    ("--n-embd", "n_embd"),
    ("--block-size", "block_size"),
    ("positions the pretrained", "block_size"),
    ("--dropout", "dropout"),
    ("--batch-size", "batch_size"),
    ("--grad-accum", "grad_accum"),
    ("--lr", "lr"),
    ("--max-steps", "max_steps"),
    ("--warmup", "warmup"),
    ("--eval-interval", "eval_interval"),
    ("unknown schedule", "schedule"),
    ("--device", "device"),
    ("fp16", "precision"),
    ("--precision", "precision"),
    ("tokenizer", "tokenizer"),
    ("vocabulary", "tokenizer"),
    ("pretrained model", "init_source"),
    ("configuration of", "init_source"),
    ("--arch", "arch"),
    ("bias terms", "arch"),
)


def fields_named_in(message: str) -> list[str]:
    """The field keys a core message is about, in the order they appear in MESSAGE_FIELDS."""
    keys: list[str] = []
    for needle, key in MESSAGE_FIELDS:
        if needle in message and key not in keys:
            keys.append(key)
    return keys


def for_form(message: str) -> str:
    """A core message with its command-line flags in the form's words, starting with a capital."""
    message = for_window(message)
    return message[:1].upper() + message[1:]


class _InvalidFrame(QWidget):
    """A red frame drawn over a field. A style sheet border would replace the style's own drawing
    of the field (spin box arrows turn into blank squares); an overlay leaves it as it is."""

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setObjectName("invalidFrame")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        target.installEventFilter(self)
        self.setGeometry(target.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(FRAME_COLORS[is_dark(self.palette())]), 2))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 3, 3)


def spec_problem(spec: object) -> str:
    """What the spec's own `validate()` says is wrong, or ""."""
    try:
        spec.validate()  # type: ignore[attr-defined]
    except InvalidSpecError as exc:
        return str(exc)
    return ""


def problems_by_field(messages: Iterable[str]) -> dict[str, str]:
    """{field key: message in the form's words}; key "" for a message that names no field."""
    problems: dict[str, str] = {}
    for message in messages:
        for key in fields_named_in(message) or [""]:
            problems.setdefault(key, for_form(message))
    return problems


def mark_invalid(widget: QWidget, reason: str, normal_tooltip: str = "") -> None:
    """A red frame and the reason as tooltip; an empty `reason` restores the field."""
    invalid = bool(reason)
    if bool(widget.property(INVALID_PROPERTY)) != invalid:
        widget.setProperty(INVALID_PROPERTY, invalid)
        frame = widget.findChild(_InvalidFrame, "invalidFrame", Qt.FindChildOption.FindDirectChildrenOnly)
        if frame is None and invalid:
            frame = _InvalidFrame(widget)
        if frame is not None:
            frame.setVisible(invalid)
            frame.raise_()
    widget.setToolTip(plain_tooltip(reason if invalid else normal_tooltip))  # reasons quote names


def is_marked(widget: QWidget) -> bool:
    return bool(widget.property(INVALID_PROPERTY))


def int_box(low: int, high: int, value: int, step: int = 1, special: str = "", suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    box.setAccelerated(True)
    if special:
        box.setSpecialValueText(special)  # shown for the minimum, e.g. "off" for 0
    if suffix:
        box.setSuffix(suffix)
    return box


def float_box(low: float, high: float, value: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def combo(items: tuple[tuple[str, str], ...], tooltip: str = "") -> QComboBox:
    box = QComboBox()
    # As narrow as a dock on a small screen allows: the longest item ("gpt2-124m — 124.4 M parameters")
    # would set the whole form's minimum width; the open list still shows every item in full.
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(MIN_COMBO_CHARS)
    for key, label in items:
        box.addItem(label, key)
    if tooltip:
        box.setToolTip(plain_tooltip(tooltip))
    return box


def refill_combo(box: QComboBox, items: list[tuple[str, object]]) -> None:
    """Replace the (label, data) items, keeping the selected data when it is still there; no signals."""
    current = box.currentData()
    box.blockSignals(True)
    box.clear()
    for label, key in items:
        box.addItem(label, key)
    index = box.findData(current)
    box.setCurrentIndex(index if index >= 0 else 0)
    box.blockSignals(False)


def select_data(box: QComboBox, key: object) -> bool:
    """Select the item whose data is `key`; False (selection unchanged) when there is none."""
    index = box.findData(key)
    if index >= 0:
        box.setCurrentIndex(index)
    return index >= 0


class LearningRateBox(QLineEdit):
    """A learning rate typed as "3e-4" or "0.0003"; Up/Down (and the wheel, when focused) step through
    1, 2, 3, 5 x 10^k.

    What is typed stays as typed. A spin box puts its old value back without a word when the text is
    not a number in range ("50", "abc"); here `problem()` says what is allowed, for the form to show
    on the field, and `value()` keeps the last learning rate that was valid.
    """

    valueChanged = Signal(float)
    STEPS = (1.0, 2.0, 3.0, 5.0)

    def __init__(self, value: float, low: float = 1e-6, high: float = 0.999) -> None:
        super().__init__()
        self._low, self._high, self._value = low, high, value
        self.textChanged.connect(self._on_text)
        self.setValue(value)

    def minimum(self) -> float:
        return self._low

    def maximum(self) -> float:
        return self._high

    def value(self) -> float:
        return self._value

    def setValue(self, value: float) -> None:
        self.setText(f"{min(self._high, max(self._low, value)):.6g}")  # the precision specs() keeps

    def problem(self) -> str:
        """Why the text is not a learning rate, with the range that is allowed; "" when it is one."""
        text = self.text().strip()
        allowed = f"type a number from {self._low:g} to {self._high:g}, such as 3e-4 or 0.0003"
        if not text:
            return f"The learning rate is empty: {allowed}."
        if not _is_float(text):
            return f"The learning rate \u201c{text}\u201d is not a number: {allowed}."
        if not self._low <= float(text) <= self._high:
            return f"The learning rate {text} is out of range: {allowed}."
        return ""

    def stepBy(self, steps: int) -> None:
        ladder = [m * 10.0 ** k for k in range(-7, 1) for m in self.STEPS]
        value = self._value
        if steps > 0:
            higher = [v for v in ladder if v > value * (1 + 1e-9)]
            target = higher[min(steps, len(higher)) - 1] if higher else value
        else:
            lower = [v for v in ladder if v < value * (1 - 1e-9)]
            target = lower[-min(-steps, len(lower))] if lower else value
        self.setValue(target)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Up: 1, Qt.Key.Key_Down: -1, Qt.Key.Key_PageUp: 4, Qt.Key.Key_PageDown: -4}
        if event.key() in steps:
            self.stepBy(steps[event.key()])
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.hasFocus() or not event.angleDelta().y():  # scrolling the form passes over the field
            event.ignore()
            return
        self.stepBy(1 if event.angleDelta().y() > 0 else -1)

    def _on_text(self) -> None:
        if self.problem():
            return
        value = float(self.text())
        if value != self._value:
            self._value = value
            self.valueChanged.emit(value)


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
