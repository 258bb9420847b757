"""The curves with their controls: which series, smoothing, x axis, log scales, reset and export.

`CurvesView` is what panels place. Its API takes several runs at once, `set_runs({run_id:
RunCurves or {series: (steps, values)}})`, each in one colour across all charts (`run_color`), and
streams a live run with `append`. The choices (series, smoothing, x axis, log scales) are kept in
the application's settings and come back in the next session.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.settings import app_settings
from workbench.ui.widgets import plain_text
from workbench.ui.widgets.charts.catalog import CHARTS, DEFAULT_SHOWN, SERIES
from workbench.ui.widgets.charts.data import Marker, RunCurves
from workbench.ui.widgets.charts.export import ExportError, export_csv, export_view
from workbench.ui.widgets.charts.grid import LIVE, REDRAW_MS, CurveGrid, RunsArg
from workbench.ui.widgets.charts.xaxis import X_MODES
from workbench.ui.widgets.forms import plain_label

__all__ = ["LIVE", "REDRAW_MS", "CurvesView", "Marker", "RunCurves"]
SMOOTHING_STEPS = 1000  # the slider's range: weight = value / 1000, up to 0.999 as in TensorBoard
KEY = "curves/"
HOVER_LINES = 4  # lines of the hover readout shown at once (it scrolls for more runs)


class CurvesView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("curvesView")
        self.grid = CurveGrid()
        self.hover = plain_label("Point at a curve to read its values.")
        self.hover.setObjectName("curveHover")
        self.hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid.hovered.connect(self.hover.setText)
        self.pointClicked = self.grid.pointClicked  # a validation point's step (the panel picks its sample)
        self.series_button = self._series_menu()
        self.x_axis = QComboBox()
        self.x_axis.setObjectName("curveXAxis")
        for key, label in X_MODES.items():
            self.x_axis.addItem(f"x: {label}", key)
        # A narrow dock must not squeeze the slider to nothing: the x-axis choice gives way instead.
        self.x_axis.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.x_axis.setMinimumContentsLength(8)
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setObjectName("smoothingSlider")
        self.smoothing.setMinimumWidth(90)
        self.smoothing.setRange(0, SMOOTHING_STEPS - 1)
        self.smoothing.setToolTip("Smoothing: exponential moving average with bias correction, as TensorBoard")
        self.smoothing_label = QLabel()
        self.reset_button = QPushButton("Reset view")
        self.reset_button.setObjectName("curveResetButton")
        self.reset_button.clicked.connect(self.grid.reset_view)
        self.export_button = self._export_menu()
        self._restore()
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        self.x_axis.currentIndexChanged.connect(self._x_mode_changed)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for widget in (self.series_button, self.x_axis, QLabel("Smoothing"), self.smoothing, self.smoothing_label):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.reset_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self._hover_area())

    def _hover_area(self) -> QScrollArea:
        """The readout at a fixed height (it scrolls): with three runs overlaid it ran to a dozen lines,
        and growing with each hover it squeezed the plots to about 60 px in a laptop's layout."""
        area = QScrollArea()
        area.setObjectName("curveHoverArea")
        area.setWidget(self.hover)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setFixedHeight(HOVER_LINES * self.hover.fontMetrics().lineSpacing() + 4)
        return area

    # ---- data (the API panels use) ---------------------------------------------------------------

    def set_runs(self, runs: RunsArg) -> None:
        """See `CurveGrid.set_runs`: one run or several overlaid, one colour each."""
        self.grid.set_runs(runs)

    def append(self, name: str, steps: Iterable[float], values: Iterable[float],
               walls: Iterable[float] | None = None, run_id: Hashable | None = None) -> None:
        self.grid.append(name, steps, values, walls, run_id)

    def set_streaming(self, on: bool) -> None:
        """See `CurveGrid.set_streaming`: on while a job streams its points in."""
        self.grid.set_streaming(on)

    def set_series(self, name: str, steps: Iterable[float], values: Iterable[float],
                   run_id: Hashable | None = None) -> None:
        """Replace one series of one run (default: the first; made if there is none) and draw it at once."""
        self.grid.append(name, [], [], None, run_id)
        run_id = run_id if run_id is not None else next(iter(self.grid.runs))
        self.grid.runs[run_id].series[name].clear()
        self.grid.append(name, steps, values, None, run_id)
        self.grid.flush()

    def add_marker(self, marker: Marker, run_id: Hashable | None = None) -> None:
        self.grid.add_marker(next(iter(self.grid.runs), LIVE) if run_id is None else run_id, marker)

    def series(self, name: str, run_id: Hashable | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of a run's series (default: the first run), as recorded."""
        runs = self.grid.runs
        key = run_id if run_id is not None else next(iter(runs), None)
        if key is None or key not in runs:
            return np.empty(0), np.empty(0)
        s = runs[key].series[name]
        return s.steps.copy(), s.values.copy()

    def run_color(self, run_id: Hashable) -> str:
        return self.grid.run_color(run_id)

    def clear_data(self) -> None:
        self.grid.set_runs({})

    # ---- controls --------------------------------------------------------------------------------

    def _series_menu(self) -> QToolButton:
        button = QToolButton()
        button.setObjectName("curveSeriesButton")
        button.setText("Series")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        self.series_actions: dict[str, QAction] = {}
        for spec in SERIES:
            action = menu.addAction(spec.label)
            action.setCheckable(True)
            action.toggled.connect(self._shown_changed)
            self.series_actions[spec.key] = action
        logs = menu.addMenu("Log scale")
        self.log_actions: dict[str | None, QAction] = {}
        for chart, label in [(None, "x axis"), *((c.key, c.title) for c in CHARTS)]:
            action = logs.addAction(label)
            action.setCheckable(True)
            action.toggled.connect(lambda on, c=chart: self._log_changed(c, on))
            self.log_actions[chart] = action
        button.setMenu(menu)
        return button

    def _export_menu(self) -> QToolButton:
        button = QToolButton()
        button.setObjectName("curveExportButton")
        button.setText("Export")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        menu.addAction("View as PNG…", lambda: self.export_dialog("png"))
        menu.addAction("View as SVG…", lambda: self.export_dialog("svg"))
        menu.addAction("Data as CSV…", lambda: self.export_dialog("csv"))
        button.setMenu(menu)
        return button

    def set_smoothing(self, weight: float) -> None:
        self.smoothing.setValue(round(weight * SMOOTHING_STEPS))

    def _smoothing_changed(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / SMOOTHING_STEPS:.3f}")
        self.grid.set_smoothing(value / SMOOTHING_STEPS)
        app_settings().setValue(KEY + "smoothing", value)

    def _shown_changed(self) -> None:
        shown = [k for k, a in self.series_actions.items() if a.isChecked()]
        self.grid.set_shown(shown)
        app_settings().setValue(KEY + "shown", ",".join(shown) or "-")

    def _x_mode_changed(self) -> None:
        self.grid.set_x_mode(self.x_axis.currentData())
        app_settings().setValue(KEY + "x_mode", self.x_axis.currentData())

    def _log_changed(self, chart: str | None, on: bool) -> None:
        self.grid.set_log(chart, on)
        logs = [c or "x" for c, a in self.log_actions.items() if a.isChecked()]
        app_settings().setValue(KEY + "log", ",".join(logs) or "-")

    def _restore(self) -> None:
        """The choices of the last session (or the defaults), applied without writing them back."""
        settings = app_settings()
        shown = str(settings.value(KEY + "shown", ",".join(DEFAULT_SHOWN))).split(",")
        logs = str(settings.value(KEY + "log", ",".join(c.key for c in CHARTS if c.log_y))).split(",")
        x_mode = str(settings.value(KEY + "x_mode", "step"))
        try:
            value = int(settings.value(KEY + "smoothing", 600))
        except (TypeError, ValueError):
            value = 600
        for key, action in self.series_actions.items():
            action.blockSignals(True)
            action.setChecked(key in shown)
            action.blockSignals(False)
        for chart, action in self.log_actions.items():
            action.blockSignals(True)
            action.setChecked((chart or "x") in logs)
            action.blockSignals(False)
        self.x_axis.setCurrentIndex(max(0, self.x_axis.findData(x_mode)))
        self.smoothing.setValue(min(max(value, 0), SMOOTHING_STEPS - 1))
        self.smoothing_label.setText(f"{self.smoothing.value() / SMOOTHING_STEPS:.3f}")
        grid = self.grid
        grid.shown = {k for k in shown if k in self.series_actions}
        grid.weight = self.smoothing.value() / SMOOTHING_STEPS
        grid.x_mode = self.x_axis.currentData()
        grid.log_x = "x" in logs and grid.x_mode != "wall"
        grid.log_y = {c.key: c.key in logs for c in CHARTS}
        grid.rebuild()

    # ---- export ----------------------------------------------------------------------------------

    def export_dialog(self, kind: str) -> None:
        title = {"png": "Export Curves as PNG", "svg": "Export Curves as SVG", "csv": "Export Curve Data as CSV"}[kind]
        path, _filter = QFileDialog.getSaveFileName(self, title, str(Path.home() / f"curves.{kind}"),
                                                    f"{kind.upper()} (*.{kind})")
        if path:
            self.export_to(Path(path), kind)

    def export_to(self, path: Path, kind: str) -> bool:
        """Write the export; an error is said in a plain-text message box. True when written."""
        try:
            if kind == "csv":
                export_csv(self.grid, path)
            else:
                export_view(self.grid, path)
        except ExportError as exc:
            box = plain_text.plain_message_box(self, "Export Failed", str(exc), QMessageBox.Icon.Warning)
            box.setObjectName("exportErrorDialog")
            plain_text.exec_box(box)
            return False
        return True
