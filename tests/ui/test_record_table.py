"""RecordTable: in a narrow dock the name column keeps a readable width and the table scrolls sideways."""

from __future__ import annotations

from workbench.ui.widgets.record_table import NAME_MIN_WIDTH, RecordTable

ROWS = [(1, ("shakespeare", "1.0 M chars", "111.5 k chars", 1, "txt")),
        (2, ("toy-stories", "52.0 k chars", "5.8 k chars", 240, "jsonl"))]


def _table(qtbot, width: int) -> RecordTable:
    table = RecordTable(("Name", "Train", "Validation", "Documents", "Format"))
    qtbot.addWidget(table)
    table.set_records(ROWS)
    table.resize(width, 200)
    table.show()
    qtbot.waitExposed(table)
    return table


def test_a_narrow_table_keeps_names_readable_and_scrolls(qtbot):
    table = _table(qtbot, 330)  # the Data dock at 1024 px wide: the other columns take about 320 px
    assert table.columnWidth(0) >= NAME_MIN_WIDTH
    assert table.horizontalScrollBar().maximum() > 0


def test_a_wide_table_stretches_the_name_column_over_the_slack(qtbot):
    table = _table(qtbot, 900)
    others = sum(table.columnWidth(c) for c in range(1, table.columnCount()))
    assert table.columnWidth(0) == table.viewport().width() - others
    assert table.horizontalScrollBar().maximum() == 0


def test_the_empty_hint_shows_as_plain_text_only_while_there_are_no_rows(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    table = RecordTable(("Name", "Train"), empty_text="No <b>runs</b> yet")
    qtbot.addWidget(table)
    table.resize(400, 200)
    table.show()
    qtbot.waitExposed(table)
    hint = table.viewport().findChild(QLabel)
    assert hint.isVisible() and hint.text() == "No <b>runs</b> yet"
    assert hint.textFormat() == Qt.TextFormat.PlainText
    table.set_records(ROWS)
    assert not hint.isVisible()
    table.set_records([])
    assert hint.isVisible()
    table.empty_text = ""
    assert not hint.isVisible()
