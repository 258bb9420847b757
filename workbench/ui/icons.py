"""The application icon, read with importlib.resources so it works from a wheel or a frozen build."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

ICON_FILES = ("icon.svg", "icon-256.png")  # the PNG covers Qt builds without the SVG image plugin


def app_icon() -> QIcon:
    icon = QIcon()
    folder = resources.files("workbench.ui.assets")
    for name in ICON_FILES:
        pixmap = QPixmap()
        if pixmap.loadFromData(folder.joinpath(name).read_bytes()):
            icon.addPixmap(pixmap)
    return icon
