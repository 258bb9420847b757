"""The window fits a 1366x768 laptop screen with every dock shown (issue 10, defect 3).

The available area of such a screen is less than 768 px high (title bar, taskbar): the window's
minimum size must be at most about 1024x600, and at 1024x700 the Samples tab's Import buttons must
be in sight, not pushed off the right edge by a long line of text.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QWidget

MAX_MINIMUM = (1024, 600)


def _visible_rect(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def test_minimum_size_fits_a_laptop_screen_with_every_dock_shown(window):
    assert not any(dock.isHidden() for dock in window.docks.values())  # the default layout: all five docks
    for size in (window.minimumSizeHint(), window.minimumSize()):
        assert size.width() <= MAX_MINIMUM[0] and size.height() <= MAX_MINIMUM[1], size
    window.resize(*MAX_MINIMUM)
    assert (window.width(), window.height()) == MAX_MINIMUM  # nothing forces it larger


def test_samples_import_buttons_are_in_sight_at_1024_wide(qtbot, window):
    window.resize(1024, 700)
    panel = window.panels.dataset
    panel.tabs.setCurrentWidget(panel.gallery)
    qtbot.waitUntil(lambda: panel.gallery.isVisible())
    assert (window.width(), window.height()) == (1024, 700)
    gallery = panel.gallery
    viewport = _visible_rect(gallery.viewport(), window)
    assert window.rect().contains(viewport)
    for card in gallery.cards.values():
        button = card.button
        gallery.verticalScrollBar().setValue(card.y())  # scrolled down to it, never sideways
        assert gallery.horizontalScrollBar().value() == 0
        rect = _visible_rect(button, window)
        assert window.rect().contains(rect), (card.key, rect, window.rect())
        assert viewport.contains(rect), (card.key, rect, viewport)


class _Screen:
    """What `_default_size` reads of a QScreen (offscreen tests have one 800x800 screen only)."""

    def __init__(self, width: int, height: int) -> None:
        self._free = QRect(0, 0, width, height)

    def availableGeometry(self) -> QRect:
        return self._free


def test_the_first_run_size_fits_the_screens_free_area():
    from workbench.ui.main_window import DEFAULT_SIZE, _default_size

    laptop = _default_size(_Screen(1366, 728))  # 1366x768 less a 40 px task bar
    assert laptop.width() <= 1366 and laptop.height() <= 728 - 30  # room for the title bar
    assert _default_size(_Screen(2560, 1400)) == DEFAULT_SIZE
    assert _default_size(None) == DEFAULT_SIZE
