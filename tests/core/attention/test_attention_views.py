"""The head view and score figures: lines follow the weights (opacity = weight, one colour per
head), long texts are cut with a notice, generated tokens are marked, and scores read a map right."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from PIL import Image

from workbench.core.attention.figures import save_figure
from workbench.core.attention.scores import (
    SCORE_NAMES,
    SCORE_TITLES,
    HeadScores,
    first_token_score,
    normalised_entropy,
    previous_token_score,
)
from workbench.core.attention.views import (
    LINES_MAX_TOKENS,
    MARK_COLOUR,
    head_colour,
    line_segments,
    lines_window,
    render_lines,
    render_scores,
    scores_caption,
)


def previous_token_map(length: int) -> np.ndarray:
    weights = np.zeros((length, length), dtype=np.float32)
    weights[0, 0] = 1
    weights[np.arange(1, length), np.arange(length - 1)] = 1
    return weights


def test_segments_keep_pairs_worth_a_line_strongest_last():
    weights = np.array([[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.005, 0.5, 0.495]])
    q, k, w = line_segments(weights)
    assert (0.005 not in w) and len(w) == 5
    assert list(w) == sorted(w) and (q[-1], k[-1]) == (0, 0)


def test_lines_figure_draws_one_line_per_pair_in_the_heads_colours(tmp_path):
    weights = np.stack([previous_token_map(6), np.tril(np.ones((6, 6))) / np.arange(1, 7)[:, None]])
    figure = render_lines(weights, list("abcdef"), "run step 4 · layer 0", head_ids=[0, 3], marked_from=4)
    collections = [c for axes in figure.axes for c in axes.collections if isinstance(c, LineCollection)]
    assert len(collections) == 2
    first, second = collections
    assert len(first.get_segments()) == 6  # one line per query of a previous-token head
    assert len(second.get_segments()) == 21  # every causal pair of a uniform head
    assert np.allclose(first.get_colors()[:, :3], to_rgba(head_colour(0))[:3])
    assert np.allclose(second.get_colors()[:, :3], to_rgba(head_colour(3))[:3])
    assert np.allclose(sorted(second.get_colors()[:, 3]), sorted(second_weights := weights[1][weights[1] > 0]))
    assert second_weights.size == 21
    marked = [t.get_text() for t in figure.axes[0].texts if t.get_color() == MARK_COLOUR]
    assert marked == ["e", "e", "f", "f"]  # both columns, from token 4 on
    save_figure(figure, tmp_path / "lines.png")
    with Image.open(tmp_path / "lines.png") as image:
        assert image.format == "PNG" and image.size[1] > 250


def test_long_texts_keep_their_last_tokens_with_a_notice():
    assert lines_window(10) == (0, "")
    first, notice = lines_window(LINES_MAX_TOKENS + 40)
    assert first == 40 and str(LINES_MAX_TOKENS) in notice
    length = LINES_MAX_TOKENS + 40
    figure = render_lines(previous_token_map(length)[None], [f"t{i}" for i in range(length)], "long", [0])
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert labels[0] == "t40" and "t39" not in labels
    assert any("last 256 of 296" in t.get_text() for t in figure.texts)


def test_scores_of_a_map_find_a_previous_token_head_and_a_sink():
    sink = np.zeros((5, 5), dtype=np.float32)
    sink[:, 0] = 1
    weights = np.stack([np.stack([previous_token_map(5), sink])])  # 1 layer, 2 heads
    previous = previous_token_score(weights)
    assert previous.shape == (1, 2)
    assert previous[0, 0] == 1 and previous[0, 1] == 0.25
    assert first_token_score(weights)[0, 1] == 1
    assert np.allclose(normalised_entropy(weights), 0)


def model_scores() -> HeadScores:
    """2 layers x 3 heads; layer 1 head 2 an induction head, as the window's job would return them."""
    induction = np.full((2, 3), 0.02, dtype=np.float32)
    induction[1, 2] = 0.8
    rest = np.full((2, 3), 0.1, dtype=np.float32)
    return HeadScores(induction=induction, previous_token=rest, first_token=rest, entropy=rest, period=32,
                      text_tokens=9)


def test_score_figure_draws_the_model_scores_the_window_shows(tmp_path):
    scores = model_scores()
    figure = render_scores(scores, "run step 4")
    images = [axes for axes in figure.axes if axes.images]
    assert [axes.get_title() for axes in images] == [SCORE_TITLES[name] for name in SCORE_NAMES]
    assert all(axes.images[0].get_clim() == (0.0, 1.0) for axes in images)  # the window's 0-1 scale
    np.testing.assert_allclose(images[0].images[0].get_array(), scores.induction)
    outlined = [(p.get_x(), p.get_y()) for p in images[0].patches]
    assert outlined == [(pytest.approx(2 - 0.46), pytest.approx(1 - 0.46))]  # layer 1 head 2, outlined
    caption = scores_caption(scores)
    assert caption.startswith("induction heads: L1 H2 (0.80)") and "the text (9 tokens)" in caption
    assert caption in figure.get_suptitle()
    save_figure(figure, tmp_path / "scores.svg")
    assert "<svg" in (tmp_path / "scores.svg").read_text()
