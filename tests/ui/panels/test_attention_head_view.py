"""The head view: lines from each token to the tokens it attends to, one colour per head, chosen
heads only; hovering a token keeps only its lines; generated tokens are marked."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from workbench.core.attention.lines import MARK_COLOUR
from workbench.core.attention.scores import HeadScores
from workbench.ui.panels.attention.head_view import HeadView
from workbench.ui.panels.attention.panel import AttentionPanel


def two_heads(length: int) -> np.ndarray:
    """[1 layer, 2 heads, T, T]: head 0 looks at the previous token, head 1 at the first token."""
    weights = np.zeros((1, 2, length, length), dtype=np.float16)
    weights[0, 0, 0, 0] = 1
    weights[0, 0, np.arange(1, length), np.arange(length - 1)] = 1
    weights[0, 1, :, 0] = 1
    return weights


def test_the_panel_shows_the_head_view_of_the_chosen_layer(qtbot):
    panel = AttentionPanel()
    qtbot.addWidget(panel)
    weights = np.concatenate([two_heads(5), two_heads(5)[:, ::-1]])  # layer 1 swaps the heads
    panel.show_attention(weights, list("abcde"))
    view = panel.findChild(HeadView, "attentionHeadView")
    assert view is panel.head_view and panel.tabs.indexOf(panel.head_view_page) >= 0
    assert view.selected_heads() == [0] and len(view.buttons) == 2
    queries, keys, _ = view.lines.segments()[0]
    assert sorted(zip(queries.tolist(), keys.tolist(), strict=True)) == [(0, 0), (1, 0), (2, 1), (3, 2), (4, 3)]
    panel.layer.setValue(1)
    queries, keys, _ = view.lines.segments()[0]
    assert set(keys.tolist()) == {0}  # layer 1's head 0 is the first-token head
    view.buttons[1].setChecked(True)
    assert view.selected_heads() == [0, 1] and set(view.lines.segments()) == {0, 1}


def test_hovering_a_token_keeps_its_lines_and_marks_it(qtbot):
    view = HeadView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.set_attention(two_heads(6), list("abcdef"), 0, marked_from=4)
    lines = view.lines
    row = lines.row_height()
    assert lines.token_at(QPointF(5, 4 + 2.5 * row)) == ("query", 2)
    assert lines.token_at(QPointF(lines.column_width() + 200, 4 + 0.5 * row)) == ("key", 0)
    assert lines.token_at(QPointF(lines.column_width() + 20, 4 + 0.5 * row)) is None  # between the columns
    lines.hovered = ("query", 2)
    image = lines.grab().toImage()
    # Only the line 2 -> 1 is drawn: the pixel halfway along 0 -> 0 stays background.
    middle_x = lines.column_width() + 70
    y_00, y_21 = int(4 + 0.5 * row), int(4 + 1.5 * row + 0.5 * row)
    background = image.pixelColor(middle_x, y_00)
    assert image.pixelColor(middle_x, y_21) != background
    lines.hovered = None
    full = lines.grab().toImage()
    assert full.pixelColor(middle_x, y_00) != background  # drawn when nothing is hovered
    # The generated tokens (from 4 on) are drawn in the marking colour.
    marked = QColor(MARK_COLOUR)
    left = [full.pixelColor(x, y) for x in range(lines.column_width() - 20, lines.column_width() - 6)
            for y in range(4 + 4 * row, 4 + 5 * row)]
    assert any(abs(c.red() - marked.red()) + abs(c.green() - marked.green()) + abs(c.blue() - marked.blue()) < 60
               for c in left)


def test_a_long_text_is_drawn_in_the_exposed_strip_only(qtbot):
    view = HeadView()
    qtbot.addWidget(view)
    length = 1024
    weights = np.tril(np.ones((1, 1, length, length), dtype=np.float32))
    weights /= weights.sum(-1, keepdims=True)
    view.set_attention(weights.astype(np.float16), [f"t{i}" for i in range(length)], 0)
    assert view.lines.height() >= length * view.lines.row_height()
    view.resize(600, 500)
    view.show()
    qtbot.waitExposed(view)
    view.lines.grab()  # draws without error; segments computed once
    queries, _, weights_kept = view.lines.segments()[0]
    assert weights_kept.min() >= 0.01 and queries.size < length * length / 2


def test_export_writes_the_view_shown_as_png_or_svg(qtbot, tmp_path, monkeypatch):
    from PIL import Image

    from workbench.ui.panels.attention import export

    panel = AttentionPanel()
    qtbot.addWidget(panel)
    asked: list[str] = []
    monkeypatch.setattr(export, "choose_path", lambda parent, suggested: asked.pop(0))
    assert panel.export_button.export() == "" and "Nothing to export" in panel.notice.text()
    panel.show_attention(np.concatenate([two_heads(6), two_heads(6)]), list("abcdef"))
    panel.show_head_scores(scores_with_induction_at(1, 1))  # the Scores tab exports the scores it shows
    sizes = {}
    for page, name in ((panel.map_page, "map.png"), (panel.grid_page, "grid.png"),
                       (panel.head_view_page, "lines.svg"), (panel.scores_page, "scores.png")):
        panel.tabs.setCurrentWidget(page)
        asked.append(str(tmp_path / name))
        assert panel.export_button.export() == str(tmp_path / name)
        assert f"Exported the view to {tmp_path / name}" in panel.notice.text()
        if name.endswith(".png"):
            with Image.open(tmp_path / name) as image:
                assert image.format == "PNG"
                sizes[name] = image.size
    svg = (tmp_path / "lines.svg").read_text()
    assert "<svg" in svg and "head 0" in svg
    assert len(set(sizes.values())) == 3  # three different figures
    asked.append(str(tmp_path / "missing" / "x.png"))
    assert panel.export_button.export() == "" and "Cannot write" in panel.notice.text()


def scores_with_induction_at(layer: int, head: int) -> HeadScores:
    induction = np.full((2, 2), 0.02, dtype=np.float32)
    induction[layer, head] = 0.8
    rest = np.full((2, 2), 0.1, dtype=np.float32)
    return HeadScores(induction=induction, previous_token=rest, first_token=rest, entropy=rest, period=32)


def test_the_scores_export_draws_the_scores_the_tab_shows(qtbot, tmp_path, monkeypatch):
    from workbench.ui.panels.attention import export

    panel = AttentionPanel()
    qtbot.addWidget(panel)
    monkeypatch.setattr(export, "choose_path", lambda parent, suggested: str(tmp_path / "scores.svg"))
    panel.tabs.setCurrentWidget(panel.scores_page)
    assert panel.export_button.export() == "" and "compute the head scores first" in panel.notice.text()
    panel.show_head_scores(scores_with_induction_at(1, 0))  # no map needed: scores are computed without a text
    assert panel.export_button.export() == str(tmp_path / "scores.svg")
    svg = (tmp_path / "scores.svg").read_text()
    assert "Induction" in svg and "induction heads: L1 H0 (0.80)" in svg  # the model's scores, as in the tab
    assert "Previous token" in svg and "0.80" in svg
