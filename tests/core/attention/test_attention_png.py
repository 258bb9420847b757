"""Attention figures: the grid names its tokens, long token lists are cut visibly, files are valid PNGs
(read back with Pillow, not with our own code), colours follow the weights and tokens in any script
are drawn as letters, not boxes."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from workbench.core.attention.figures import (
    _display_width,
    _token_lines,
    font_families,
    missing_glyphs,
    prepare_fonts,
    render_grid,
    render_head,
    save_figure,
)


def causal(layers: int, heads: int, length: int) -> np.ndarray:
    weights = np.tril(np.random.default_rng(0).random((layers, heads, length, length)))
    return weights / weights.sum(-1, keepdims=True)


def decoded(figure: Figure, path) -> Image.Image:
    save_figure(figure, path)
    image = Image.open(path)
    assert image.format == "PNG"
    return image


def test_token_lines_wrap_in_order_and_say_when_cut():
    tokens = [f"tok{i}" for i in range(200)]
    lines = _token_lines(tokens, 60, max_lines=3)
    assert len(lines) == 3 and all(len(line) <= 60 for line in lines)
    assert lines[0].startswith("200 tokens") and "tok0 tok1 tok2" in lines[0]
    assert lines[-1].endswith(" …")
    short = _token_lines(["T", "o", "·", "b", "e"], 60)
    assert short == ["5 tokens, rows and columns in order: T o · b e"]
    wide = _token_lines(["你好"] * 40, 60)  # Chinese characters take two columns
    assert all(_display_width(line) <= 60 for line in wide) and len(wide[0]) < 50


def test_grid_makes_room_for_its_token_line(tmp_path):
    weights = causal(2, 3, 19)
    bare = np.asarray(decoded(render_grid(weights, "run"), tmp_path / "bare.png").convert("RGB"))
    named_figure = render_grid(weights, "run", tokens=list("To be, or not to be"))
    named = np.asarray(decoded(named_figure, tmp_path / "named.png").convert("RGB"))
    assert named.shape[1] == bare.shape[1] and named.shape[0] > bare.shape[0]
    title_band = named[: named.shape[0] - bare.shape[0] + 30]
    assert (title_band < 128).any()  # ink: the tokens are drawn
    # Every token line lies inside the image, and a line holds a useful number of tokens.
    many = render_grid(weights, "run", tokens=[f"tok{i}" for i in range(300)])
    renderer = many.canvas.get_renderer()
    lines = [text for text in many.texts if "tok" in text.get_text()]
    assert len(lines) == 3 and lines[-1].get_text().endswith(" …")
    assert all(0 <= text.get_window_extent(renderer).x1 <= many.bbox.width for text in lines)
    assert all(len(text.get_text()) >= 40 for text in lines)


def test_png_file_is_valid(tmp_path):
    figure = render_grid(causal(1, 2, 8), "run", tokens=list("abcdefgh"))
    image = decoded(figure, tmp_path / "grid.png")
    assert image.size == figure.canvas.get_width_height()
    assert image.mode in ("RGB", "RGBA")
    pixels = np.asarray(image.convert("RGBA"))
    assert (pixels[..., 3] == 255).all()  # opaque: readable on a dark viewer too
    assert (pixels == np.asarray(figure.canvas.buffer_rgba())).all()  # the file holds what was drawn


def test_svg_when_the_path_says_so(tmp_path):
    path = tmp_path / "head.SVG"
    save_figure(render_head(causal(1, 1, 5)[0, 0], list("abcde"), "run"), path)
    text = path.read_text()
    assert text.startswith("<?xml") and "<svg" in text


def test_head_colours_follow_the_weights(tmp_path):
    weights = np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [0.2, 0.3, 0.5, 0], [0.1, 0.2, 0.3, 0.4]])
    figure = render_head(weights, ["a", "b", "c", "d"], "run · layer 0 · head 0")
    pixels = np.asarray(decoded(figure, tmp_path / "head.png").convert("RGB")).astype(float)
    box = figure.axes[0].get_window_extent()  # the map, in pixels from the bottom left
    height = pixels.shape[0]

    def colour(row: int, col: int) -> np.ndarray:
        x = int(box.x0 + (col + 0.5) * box.width / 4)
        y = int(height - (box.y1 - (row + 0.5) * box.height / 4))
        return pixels[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3).mean(0)

    cells = [(0, 1), (3, 0), (2, 0), (2, 1), (3, 3), (1, 0), (0, 0)]  # weights 0, .1, .2, .3, .4, .5, 1
    lightness = [colour(*cell) @ [0.299, 0.587, 0.114] for cell in cells]
    assert all(b - a > 5 for a, b in zip(lightness[:-1], lightness[1:], strict=True))  # viridis: heavier is lighter
    assert np.abs(colour(0, 0) - [253, 231, 37]).max() < 4  # the largest weight is viridis' yellow
    assert np.abs(colour(0, 1) - [68, 1, 84]).max() < 4  # no weight is its purple


def glyph(text: str, families: list[str] | None = None) -> np.ndarray:
    """`text` drawn big in the figures' fonts, always at the same spot, so equal glyphs give equal pixels."""
    figure = Figure(figsize=(1, 1), dpi=100)
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.2, text, fontsize=40, fontfamily=families or list(font_families()), parse_math=False)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


@pytest.mark.filterwarnings("ignore:Glyph")
def test_tokens_in_any_script_are_letters_not_boxes(tmp_path):
    # The control: two characters no font has are drawn as the same box.
    assert (glyph("\ue000") == glyph("\ue001")).all()
    tokens = ["привет", "·", "café", "naïve", "Ærø"]
    assert missing_glyphs(tokens) == ""  # the chosen fonts have every character (FreeType's character map)
    for a, b in [("п", "р"), ("и", "т"), ("é", "ï"), ("Æ", "ø")]:  # same Unicode block, different letters
        assert (glyph(a) != glyph(b)).any(), (a, b)
    figure = render_head(causal(1, 1, 5)[0, 0], tokens, "run $x$ · layer 0 · head 0")
    decoded(figure, tmp_path / "head.png")
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == tokens
    assert figure.axes[0].get_yticklabels()[0].get_fontfamily()[0] == "DejaVu Sans"  # Latin stays DejaVu
    assert figure._suptitle.get_text() == "run $x$ · layer 0 · head 0"  # dollars are not mathtext


@pytest.mark.filterwarnings("ignore:Glyph")
def test_chinese_uses_a_system_cjk_font_when_one_exists():
    prepare_fonts(["你好"])
    if len(font_families()) == 1:  # no CJK font on this machine: say which characters will be boxes
        assert missing_glyphs(["你好", "привет"]) == "你好"
        pytest.skip("no CJK font installed (apt install fonts-noto-cjk to run this check)")
    assert font_families()[0] == "DejaVu Sans" and missing_glyphs(["你好", "日本語"]) == ""
    assert (glyph("你") != glyph("好")).any()
    assert (glyph("Rä") == glyph("Rä", ["DejaVu Sans"])).all()  # Latin stays DejaVu
    assert (glyph("Rä") != glyph("Rä", [font_families()[1]])).any()  # (which the CJK font would change)
