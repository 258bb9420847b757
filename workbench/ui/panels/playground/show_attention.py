""""Show attention" for the generated text: asks the window to open the text now in the output in
the Attention panel, computed under the weights that generated it, with the generated part marked.

The button is enabled once there is output and no generation is running. It emits
`requested(run, checkpoint, prompt, text)`: the checkpoint is the step the generation used (a
"latest" may have moved on since), the prompt the part the user typed (not marked).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QWidget

from workbench.ui.widgets.forms import set_available


class ShowAttentionButton(QPushButton):
    """objectName `playgroundShowAttentionButton`."""

    requested = Signal(str, str, str, str)

    def __init__(self, output: QPlainTextEdit, source: Callable[[], tuple[str | None, str | None, str]],
                 parent: QWidget | None = None) -> None:
        """`source()` gives (run, checkpoint chosen, prompt of the text shown)."""
        super().__init__("Show attention", parent)
        self.setObjectName("playgroundShowAttentionButton")
        self._output, self._source = output, source
        self.used_step: int | None = None  # the step the generation shown ran on, once known
        self.generating = False
        self.clicked.connect(self.request)
        output.textChanged.connect(self.update_state)
        self.update_state()

    def set_generating(self, generating: bool) -> None:
        self.generating = generating
        self.update_state()

    @Slot()
    def update_state(self) -> None:
        run = self._source()[0]
        reason = ("Generate a text first." if not self._output.toPlainText().strip() else
                  "Wait until the generation ends." if self.generating else
                  "Choose a run first." if run is None else "")
        set_available(self, not reason, reason,
                      "Open this text in the Attention panel, the generated part marked")

    @Slot()
    def request(self) -> bool:
        run, checkpoint, prompt = self._source()
        text = self._output.toPlainText()
        if not self.isEnabled() or run is None or not text.strip():
            return False
        step = str(self.used_step) if self.used_step is not None else (checkpoint or "latest")
        self.requested.emit(run, step, prompt if text.startswith(prompt) else "", text)
        return True
