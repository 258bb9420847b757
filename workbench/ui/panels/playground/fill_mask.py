"""Fill-mask for BERT runs: for each `[MASK]` in the text, the model's ranked candidates.

The Generate button routes by the chosen run's architecture (`route`): a masked language model
(BERT) fills masks, since it cannot continue text; `[MASK]` typed for a causal run is refused with
a sentence saying fill-mask needs a BERT run, instead of a generation that would treat it as text.
The results view is the tree `fillMaskView`: one row per mask, its candidates below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from workbench.core.base.errors import WorkbenchError
from workbench.ui.widgets.forms import plain_label
from workbench.ui.wording import for_window

MASK = "[MASK]"
MASKED_ARCHS = frozenset({"bert"})
BAR_WIDTH = 20  # characters of the probability bar at 100 %
CONTEXT = 24  # characters shown each side of a mask


def route(arch: str | None, text: str) -> tuple[str, str]:
    """What Generate does for a run of `arch` with `text`: ("fill", ""), ("generate", "") or
    ("refuse", why)."""
    if arch in MASKED_ARCHS:
        if MASK not in text:
            return "refuse", (f"This is a BERT run: it fills in blanks rather than continuing text. Put {MASK} "
                              f"where it should guess a word, e.g. 'the king {MASK} to his men'.")
        return "fill", ""
    if MASK in text:
        return "refuse", (f"Fill-mask needs a BERT run: this {arch or 'causal'} run continues text. Choose a "
                          f"BERT run, or remove {MASK} from the prompt.")
    return "generate", ""


def run_arch(store: Any, run: str | None) -> str | None:
    """The architecture of the run called `run` ("gpt2", "bert", ...), None when unknown."""
    if store is None or run is None:
        return None
    try:
        return str(store.get_run(run)["arch"])
    except WorkbenchError:
        return None


def mask_contexts(text: str) -> list[str]:
    """A short excerpt of `text` around each `[MASK]`, the mask itself shown as "[MASK]"."""
    parts = text.split(MASK)
    contexts = []
    for i in range(1, len(parts)):
        before, after = parts[i - 1][-CONTEXT:], parts[i][:CONTEXT]
        contexts.append(f"…{before}{MASK}{after}…".replace("\n", " "))
    return contexts


def best_guess(text: str, candidates: Sequence[Sequence[tuple[str, float]]]) -> str:
    """`text` with each mask replaced by its most likely candidate, in brackets."""
    parts = text.split(MASK)
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        found = candidates[i] if i < len(candidates) else ()
        out.append(f"[{found[0][0]}]" if found else MASK)
        out.append(part)
    return "".join(out)


def _bar(probability: float) -> str:
    eighths = round(max(0.0, min(1.0, probability)) * BAR_WIDTH * 8)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


class FillMaskTab(QWidget):
    """The "Fill mask" tab: a one-line best guess over the tree `fillMaskView`.
    `fillRequested(run, checkpoint, text)`; `filled(run, step, text, best guess, top_k)` once the
    candidates of a run's checkpoint are shown (the history records it)."""

    fillRequested = Signal(str, str, str)
    filled = Signal(str, int, str, str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = plain_label(f"For a BERT run, type a text with {MASK} in the prompt and press Generate.")
        self.summary.setObjectName("fillMaskSummary")
        self.view = QTreeWidget()
        self.view.setObjectName("fillMaskView")
        self.view.setColumnCount(3)
        self.view.setHeaderLabels(["Mask / candidate", "Probability", ""])
        self.view.setRootIsDecorated(True)
        self.view.setUniformRowHeights(True)
        header = self.view.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    def intercept(self, store: Any, run: str | None, checkpoint: str | None, text: str) -> tuple[bool, str] | None:
        """What Generate does here: None to generate as usual; else (fill-mask started, problem to show)."""
        arch = run_arch(store, run)
        action, why = route(arch, text)
        if action == "generate":
            return None
        if action == "fill" and run is not None:
            self.fillRequested.emit(run, checkpoint or "latest", text)
            return True, ""
        return False, why

    def begin(self) -> None:
        self.view.clear()
        self.summary.setText("Filling the masks…")

    def show_candidates(self, text: str, candidates: Sequence[Sequence[tuple[str, float]]],
                        run: str | None = None, step: int | None = None) -> None:
        """Per mask of `text`, its (token display text, probability) candidates, most likely first;
        with the `run` and `step` that gave them, `filled` hands the result to the history."""
        self.view.clear()
        for number, (context, found) in enumerate(zip(mask_contexts(text), candidates, strict=False), start=1):
            mask = QTreeWidgetItem([f"{MASK} {number}: {context}", "", ""])
            for rank, (token, probability) in enumerate(found, start=1):
                QTreeWidgetItem(mask, [f"{rank}. {token}", f"{probability:.1%}", _bar(probability)])
            self.view.addTopLevelItem(mask)
            mask.setExpanded(True)
            mask.setFirstColumnSpanned(True)
        self.view.resizeColumnToContents(0)
        guess = best_guess(text, candidates)
        self.summary.setText(f"Best guess: {guess}")
        if run is not None and step is not None:
            self.filled.emit(run, step, text, guess, max((len(c) for c in candidates), default=0))

    def show_refusal(self, reason: str) -> None:
        self.view.clear()
        self.summary.setText(for_window(reason))

    def candidates(self) -> list[list[tuple[str, str]]]:
        """What the tree shows: per mask, (candidate, probability text) rows (for tests)."""
        shown = []
        for i in range(self.view.topLevelItemCount()):
            mask = self.view.topLevelItem(i)
            assert mask is not None
            rows = (mask.child(j) for j in range(mask.childCount()))
            shown.append([(row.text(0).split(". ", 1)[1], row.text(1)) for row in rows if row is not None])
        return shown
