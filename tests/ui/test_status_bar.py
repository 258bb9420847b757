"""The status bar: a temporary message and "Loading …" are both readable, never drawn over each other."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMainWindow

from workbench.ui.status_bar import WorkbenchStatusBar

MESSAGE = "Demo: training a tiny model on generated toy stories; watch the curves."


def _message_rect(bar: WorkbenchStatusBar) -> QRect:
    """Where QStatusBar draws a temporary message: from x=6, as wide as the text."""
    return QRect(6, 0, bar.fontMetrics().horizontalAdvance(MESSAGE), bar.height())


def _pixels(image: QImage, rect: QRect) -> list[int]:
    ratio = image.devicePixelRatio()
    return [image.pixel(int(x * ratio), int(y * ratio))
            for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())]


def test_loading_text_does_not_cover_a_temporary_message(qtbot):
    window = QMainWindow()
    bar = WorkbenchStatusBar(window)
    window.setStatusBar(bar)
    qtbot.addWidget(window)
    window.resize(1366, 120)
    window.show()
    qtbot.waitExposed(window)
    bar.begin_progress("Demo: nano model on toy stories", 3000)
    bar.showMessage(MESSAGE)
    qtbot.wait(50)
    alone = bar.grab().toImage()

    bar.set_loading("Loading transformers…")  # the warm-up job reports while the demo's message is up
    qtbot.wait(50)
    both = bar.grab().toImage()

    loading = bar.loading_label
    assert loading.isVisible() and bar.currentMessage() == MESSAGE
    assert not loading.geometry().intersects(_message_rect(bar))
    assert loading.geometry().right() < bar.job_label.geometry().left()  # and beside the job's progress
    assert _pixels(both, _message_rect(bar)) == _pixels(alone, _message_rect(bar))  # the message is untouched

    bar.set_loading("")
    assert not loading.isVisible()


def test_progress_is_shown_at_most_twice_a_second_and_the_last_step_always(qtbot, monkeypatch):
    from workbench.ui import status_bar

    now = [100.0]
    monkeypatch.setattr(status_bar.time, "monotonic", lambda: now[0])
    bar = WorkbenchStatusBar()
    qtbot.addWidget(bar)
    bar.begin_progress("Training", 100)
    bar.update_progress(1)
    assert bar.progress.value() == 1
    now[0] += 0.1
    bar.update_progress(2)  # too soon: each change repaints the window, taking the GIL from training
    assert bar.progress.value() == 1 and bar.progress.format() == "1/100"
    now[0] += status_bar.PROGRESS_EVERY_S
    bar.update_progress(3)
    assert bar.progress.value() == 3 and bar.progress.format() == "3/100"
    now[0] += 0.01
    bar.update_progress(100)  # the end is shown at once
    assert bar.progress.value() == 100
