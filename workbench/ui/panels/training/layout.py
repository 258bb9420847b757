"""Where the training panel's parts go, sized for a 1366x768 laptop first.

The panel lives in a dock about 900x420 px there, so every row counts: the info line, Pause and
Stop share the runs' heading row; the runs table keeps a third of the height (four or five runs in
sight); the Samples/Compare column keeps about a third of the width beside the curves (a sample's
text and the settings diff are unreadable narrower). The x-axis choice is shortened: its longest
label made the curves' toolbar wider than the dock.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget

from workbench.ui.widgets.forms import section_title
from workbench.ui.widgets.scrolling import scroll_area

ROW_PADDING = 6  # px above the text's height in a runs table row (the style's default is about 30)
X_AXIS_CHARS = 6  # "x: step" shows whole; longer choices elide in the closed box, whole in its list


def build_layout(panel: Any) -> None:
    """Lay out `panel` (a TrainingPanel): heading row, runs table, curves beside the side tabs."""
    panel.info.setWordWrap(False)
    panel.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # elided by the width
    head = QHBoxLayout()
    head.addWidget(section_title("Runs"))
    head.addWidget(panel.info, 1)
    for widget in (panel.filter, panel.run_button, panel.pause_button, panel.stop_button):
        head.addWidget(widget)
    rows = panel.runs.verticalHeader()
    rows.setDefaultSectionSize(panel.runs.fontMetrics().height() + ROW_PADDING)
    panel.plot.x_axis.setMinimumContentsLength(X_AXIS_CHARS)
    top = QWidget()
    top_layout = QVBoxLayout(top)
    top_layout.setContentsMargins(0, 0, 0, 0)
    top_layout.addWidget(panel.runs)
    panel.side = QTabWidget()
    panel.side.setObjectName("runSideTabs")
    panel.side.addTab(panel.samples, "Samples")
    panel.side.addTab(panel.diff, "Compare")
    panel.side.setMinimumWidth(150)
    bottom = QSplitter(Qt.Orientation.Horizontal)
    bottom.setObjectName("curvesSplitter")
    bottom.addWidget(panel.plot)
    bottom.addWidget(panel.side)
    bottom.setStretchFactor(0, 2)
    bottom.setStretchFactor(1, 1)
    bottom.setChildrenCollapsible(False)
    bottom.setSizes([640, 320])  # shares: the splitter scales them to its width
    split = QSplitter(Qt.Orientation.Vertical)
    split.setObjectName("runsSplitter")
    split.addWidget(top)
    split.addWidget(bottom)
    split.setStretchFactor(1, 2)
    split.setSizes([140, 280])
    split.setChildrenCollapsible(False)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addLayout(head)
    layout.addWidget(scroll_area(split), 1)  # a short dock scrolls: the window must fit a laptop screen
    panel.splitters = (split, bottom)
