"""pyqtgraph views that paint in Qt's C++ code without holding Python's GIL.

pyqtgraph's `GraphicsView.paintEvent` is a Python method (it prepares the view boxes, then calls
Qt's). A virtual that Python overrides runs everything it calls holding the GIL: the whole scene's
rasterisation, antialiased curves and text included, stops every other Python thread, and the
training thread needs the GIL between its torch calls. Measured here: a second Python thread ran
at 5% of its idle speed while a QGraphicsView with a Python `paintEvent` repainted without pause,
at 80-100% while one with Qt's own did (`tests/ui/test_qt_paint.py` checks the longest stall).

`QtPaint` puts Qt's `paintEvent` back (shiboken calls the C++ method, releasing the GIL, when the
attribute it finds is not a Python function) and runs pyqtgraph's preparation from an event filter
on the viewport, which holds the GIL only for that call. The items' own `paint` methods are
still Python and take the GIL one by one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QGraphicsView


class _PrepareForPaint(QObject):
    """What pyqtgraph's paintEvent did before painting: range the view boxes and set their matrices."""

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self._view = view

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            scene = self._view.scene()
            if scene is not None:
                scene.prepareForPaint()
        return False  # Qt goes on to paint


class QtPaint:
    """Mixin, before the pyqtgraph view class: its paints run in Qt without the GIL."""

    paintEvent = QGraphicsView.paintEvent  # noqa: N815 (Qt's name; not a Python override, see above)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.viewport().installEventFilter(_PrepareForPaint(self))  # type: ignore[attr-defined]
