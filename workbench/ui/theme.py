"""Light and dark follow the operating system (Qt 6.5+ `QStyleHints.colorScheme()`).

Most platforms hand Qt a palette that matches the scheme. Where they do not (some Linux desktops,
the offscreen platform of the tests) and the system asks for dark, a Fusion-style dark palette is
set; when the system goes back to light the platform palette is restored. Widgets that paint
themselves (pyqtgraph plots) read the palette in `changeEvent(PaletteChange)`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup


def is_dark(palette: QPalette) -> bool:
    return palette.color(_Role.Window).lightness() < 128


def system_scheme(app: QGuiApplication) -> Qt.ColorScheme:
    return app.styleHints().colorScheme()


def apply_color_scheme(app: QGuiApplication, scheme: Qt.ColorScheme | None = None) -> bool:
    """Make the application palette match `scheme` (default: the system's). Returns True when dark."""
    scheme = system_scheme(app) if scheme is None else scheme
    want_dark = scheme == Qt.ColorScheme.Dark
    app.setPalette(QPalette())  # back to what the platform offers, then check it
    if want_dark and not is_dark(app.palette()):
        app.setPalette(dark_palette())
    return is_dark(app.palette())


def dark_palette() -> QPalette:
    colors = {
        _Role.Window: "#2b2b2e", _Role.WindowText: "#e6e6e6", _Role.Base: "#1e1e20",
        _Role.AlternateBase: "#27272a", _Role.ToolTipBase: "#3a3a3e", _Role.ToolTipText: "#f0f0f0",
        _Role.PlaceholderText: "#8a8a8f", _Role.Text: "#e6e6e6", _Role.Button: "#35353a",
        _Role.ButtonText: "#e6e6e6", _Role.BrightText: "#ff6b6b", _Role.Light: "#4a4a50",
        _Role.Midlight: "#3e3e44", _Role.Mid: "#2f2f34", _Role.Dark: "#1a1a1c", _Role.Shadow: "#000000",
        _Role.Highlight: "#3d7bd9", _Role.HighlightedText: "#ffffff", _Role.Link: "#6ea8fe",
        _Role.LinkVisited: "#b18cf0",
    }
    palette = QPalette()
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (_Role.WindowText, _Role.Text, _Role.ButtonText):
        palette.setColor(_Group.Disabled, role, QColor("#7a7a80"))
    palette.setColor(_Group.Disabled, _Role.Base, QColor("#252528"))
    palette.setColor(_Group.Disabled, _Role.Button, QColor("#2e2e32"))
    return palette


def plot_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, foreground) for pyqtgraph widgets under `palette`."""
    return palette.color(_Role.Base), palette.color(_Role.Text)


def series_colors(dark: bool) -> dict[str, str]:
    """Curve colours readable on the plot background of either scheme."""
    if dark:
        return {"loss": "#6ea8fe", "val_loss": "#ffb454"}
    return {"loss": "#1f5fbf", "val_loss": "#d9730d"}
