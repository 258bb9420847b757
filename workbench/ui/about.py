"""Help > About: versions of everything that matters, without importing torch to find them."""

from __future__ import annotations

import platform
from html import escape
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from workbench import __version__
from workbench.ui.settings import APP_NAME


def package_version(distribution: str) -> str:
    """The installed version from the package metadata (reads a file; imports nothing)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_report(device: str) -> list[tuple[str, str]]:
    return [
        (APP_NAME, __version__),
        ("Python", platform.python_version()),
        ("PyTorch", package_version("torch")),
        ("transformers", package_version("transformers")),
        ("tokenizers", package_version("tokenizers")),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", package_version("pyqtgraph")),
        ("Compute device", device),
        ("System", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]


def about_text(device: str) -> str:
    """Plain text, one "name: version" per line (for logs and bug reports)."""
    return "\n".join(f"{name}: {value}" for name, value in version_report(device))


def about_table(device: str) -> str:
    """The same as an HTML table; every value is escaped (the device name comes from the driver)."""
    rows = "".join(f"<tr><td>{escape(name)}</td><td style='padding-left:16px'>{escape(value)}</td></tr>"
                   for name, value in version_report(device))
    return f"<table>{rows}</table>"


def build_about_box(parent: QWidget | None, device: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("aboutDialog")
    box.setWindowTitle(f"About {APP_NAME}")
    box.setTextFormat(Qt.TextFormat.RichText)  # for the table; every value in it is escaped
    box.setText(escape(f"{APP_NAME}: build small language models end to end, offline."))
    box.setInformativeText(about_table(device))
    icon = QGuiApplication.windowIcon()
    if not icon.isNull():
        box.setIconPixmap(icon.pixmap(64, 64))
    return box


def show_about(parent: QWidget | None, device: str) -> None:
    build_about_box(parent, device).exec()
