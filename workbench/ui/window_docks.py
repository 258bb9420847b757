"""The main window's docks: where each panel goes on first run, the first-run size, and the
layout saved between sessions (QSettings `window/geometry`, `window/state`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QDockWidget, QMainWindow

from workbench.ui import settings

if TYPE_CHECKING:
    from workbench.ui.jobs.panels import Panels

STATE_VERSION = 2  # bump when the docks change, so an old saved layout is not restored over them
DEFAULT_SIZE = QSize(1360, 860)
TALL_ENOUGH = 840  # first-run heights below this tab Training with Playground and Attention
FRAME_ALLOWANCE = 40  # the title bar and frame the window manager adds around the window's own size
DOCK_AREA = Qt.DockWidgetArea


def build_docks(window: QMainWindow, p: Panels) -> dict[str, QDockWidget]:
    """One dock per panel: Data over Model on the left; on the right Training over Playground and
    Attention (those two tabbed), or all three tabbed on a screen shorter than TALL_ENOUGH."""
    window.setDockNestingEnabled(True)
    specs = (("dataset", "Data", p.dataset, DOCK_AREA.LeftDockWidgetArea),
             ("model", "Model", p.model, DOCK_AREA.LeftDockWidgetArea),
             ("training", "Training", p.training, DOCK_AREA.RightDockWidgetArea),
             ("playground", "Playground", p.playground, DOCK_AREA.RightDockWidgetArea),
             ("attention", "Attention", p.attention, DOCK_AREA.RightDockWidgetArea))
    docks: dict[str, QDockWidget] = {}
    for key, title, panel, area in specs:
        dock = QDockWidget(title, window)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(panel)
        window.addDockWidget(area, dock)
        docks[key] = dock
    size = default_size(window.screen() or QGuiApplication.primaryScreen())
    window.splitDockWidget(docks["dataset"], docks["model"], Qt.Orientation.Vertical)
    if size.height() < TALL_ENOUGH:
        # A laptop screen (1366x768): split in two, the curves and the playground's tabs were each
        # about 350 px tall and neither was usable; as tabs, each panel gets the whole column.
        window.tabifyDockWidget(docks["training"], docks["playground"])
        window.tabifyDockWidget(docks["playground"], docks["attention"])
        docks["training"].raise_()
    else:
        window.splitDockWidget(docks["training"], docks["playground"], Qt.Orientation.Vertical)
        window.tabifyDockWidget(docks["playground"], docks["attention"])
        docks["playground"].raise_()
    window.resize(size)
    # Shares of the first-run size (Qt keeps a dock at its minimum where a share is less): on a
    # small screen the left column keeps its third and the curves keep the larger part.
    width, height = size.width(), size.height()
    window.resizeDocks([docks["dataset"], docks["training"]], [width * 35 // 100, width * 65 // 100],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([docks["dataset"], docks["model"]], [height * 41 // 100, height * 59 // 100],
                       Qt.Orientation.Vertical)
    if height >= TALL_ENOUGH:  # Training two thirds: its runs table and curves need the height most
        window.resizeDocks([docks["training"], docks["playground"]], [height * 66 // 100, height * 34 // 100],
                           Qt.Orientation.Vertical)
    return docks


def default_size(screen: QScreen | None) -> QSize:
    """The first-run size: DEFAULT_SIZE, made smaller where the screen's free area (less task bars)
    is smaller, e.g. 1366x768 laptops; the saved geometry replaces it on later runs."""
    if screen is None:
        return DEFAULT_SIZE
    free = screen.availableGeometry()
    return DEFAULT_SIZE.boundedTo(QSize(free.width(), free.height() - FRAME_ALLOWANCE))


def save_window_state(window: QMainWindow) -> None:
    store = settings.app_settings()
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/state", window.saveState(STATE_VERSION))


def restore_window_state(window: QMainWindow) -> None:
    store = settings.app_settings()
    geometry, state = store.value("window/geometry"), store.value("window/state")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state, STATE_VERSION)
