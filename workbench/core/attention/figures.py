"""Attention heatmaps as PNG or SVG files, drawn by matplotlib's Agg renderer (no window, no Qt).

- `render_head`: one head, labelled: query tokens down the left, key tokens along the top (read
  bottom to top), a title and a colour bar. Colours are scaled to the head's largest weight so
  faint patterns stay visible; the bar says what the brightest colour means.
- `render_grid`: every head of every layer as small tiles (rows = layers, columns = heads).
- `save_figure`: a PNG, or an SVG when the path ends in .svg.
Maps longer than the pixel budget are reduced by block maximum, so a single strong weight stays
visible. Figures are built as `Figure` + `FigureCanvasAgg`, never through pyplot, so no GUI
backend is chosen and matplotlib's global settings stay as they are. Text in the user's words
(tokens, titles) names its fonts itself: DejaVu Sans (ships with matplotlib: Latin, Greek,
Cyrillic, ...) and, for the glyphs it lacks, the first installed CJK font of `CJK_FONTS`;
`missing_glyphs` names what no font can draw, so the command line can say so.
"""

from __future__ import annotations

import math
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

DPI = 100
LABEL_CHARS = 12
LATIN_FONT = "DejaVu Sans"
# System fonts with Chinese, Japanese and Korean glyphs, best first (Linux, then macOS, then Windows).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR", "Noto Sans SC",
             "Source Han Sans SC", "Source Han Sans", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Droid Sans Fallback", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei", "MS Gothic")


@lru_cache(maxsize=1)
def font_families() -> tuple[str, ...]:
    """DejaVu Sans first (so Latin text looks the same everywhere), then one CJK font if installed.
    Only one: matplotlib opens every font of a fallback list, and CJK fonts are tens of MB each."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return (LATIN_FONT, *[name for name in CJK_FONTS if name in installed][:1])


# Their file names, lower case, to find one among the system's fonts without opening every file.
_CJK_FILES = ("notosanscjk", "sourcehansans", "wqy-zenhei", "wqy-microhei", "droidsansfallback", "pingfang",
              "hiragino sans gb", "msyh", "simhei", "msgothic")
_NOT_REGULAR = ("bold", "black", "heavy", "light", "thin", "medium", "semi", "bd")


def prepare_fonts(texts: Sequence[str]) -> None:
    """Make a CJK font known to matplotlib when `texts` need one. matplotlib lists the system's
    fonts once, in a cache built on first use, so a font installed since is missing from it; then
    look among the system's font files (milliseconds with fontconfig) and add the first CJK one.
    Only when no known font has the glyphs, so Latin-only figures never pay for the search."""
    if len(font_families()) == 1 and missing_glyphs(texts) and _add_system_cjk_font():
        font_families.cache_clear()
        _charmaps.cache_clear()


@lru_cache(maxsize=1)
def _add_system_cjk_font() -> bool:
    from matplotlib import font_manager

    found = [path for path in font_manager.findSystemFonts()
             if any(hint in Path(path).name.lower() for hint in _CJK_FILES)]
    # The regular weight first: a family known only in bold would be drawn bold everywhere.
    found.sort(key=lambda path: (any(w in Path(path).name.lower() for w in _NOT_REGULAR), path))
    for path in found:
        try:
            font_manager.fontManager.addfont(path)  # this process only; matplotlib's cache file is untouched
        except (OSError, RuntimeError, ValueError):  # a damaged or unreadable font file: try the next
            continue
        return True
    return False


@lru_cache(maxsize=1)
def _charmaps() -> tuple[frozenset[int], ...]:
    from matplotlib import font_manager

    maps = []
    for family in font_families():
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        maps.append(frozenset(font_manager.get_font(path).get_charmap()))
    return tuple(maps)


def missing_glyphs(texts: Sequence[str]) -> str:
    """The characters of `texts` that none of `font_families()` can draw, each once, in order."""
    wanted = dict.fromkeys(ch for text in texts for ch in text if not ch.isspace())
    return "".join(ch for ch in wanted if not any(ord(ch) in charmap for charmap in _charmaps()))


def _text_style(size: float) -> dict:
    """Keyword arguments for a `Text` holding the user's words: our fonts, and no mathtext, so a
    token such as "$x$" is drawn as typed rather than as a formula."""
    return {"fontsize": size, "fontfamily": list(font_families()), "parse_math": False}


def fit(text: str, max_chars: int = LABEL_CHARS) -> str:
    return text if len(text) <= max_chars else text[:max(1, max_chars - 1)] + "…"


def block_max(matrix: np.ndarray, size: int) -> np.ndarray:
    """Shrink a square [T, T] map to at most `size` x `size` by taking the maximum of each block."""
    length = matrix.shape[-1]
    if length <= size:
        return matrix
    factor = -(-length // size)
    padded = np.zeros((factor * size, factor * size), dtype=matrix.dtype)
    padded[:length, :length] = matrix
    return padded.reshape(size, factor, size, factor).max(axis=(1, 3))


def _new_figure(width: float, height: float, layout: Literal["constrained"] | None = None) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)  # attaches itself to the figure: Agg, whatever GUI backend is configured
    return figure


def render_head(weights: np.ndarray, tokens: Sequence[str], title: str, pixels: int = 512) -> Figure:
    """One head's [T, T] map with token labels, a title and a colour bar."""
    length = weights.shape[-1]
    prepare_fonts([title, *tokens])
    shown = block_max(weights.astype(np.float32), pixels)
    side = float(np.clip(length * 0.16, 4.0, 8.0))  # inches of map: a token row stays readable up to ~50
    figure = _new_figure(side + 2.9, side + 2.5, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shown, cmap="viridis", vmin=0, vmax=float(shown.max()) or 1.0, interpolation="nearest",
                        extent=(-0.5, length - 0.5, length - 0.5, -0.5))
    axes.xaxis.tick_top()
    axes.xaxis.set_label_position("top")
    if length <= pixels:
        row_pt = side * 72 / length
        size = float(np.clip(row_pt * 0.85, 6, 9))
        ticks = np.arange(0, length, max(1, math.ceil(size * 1.15 / row_pt)))  # every n-th when rows are thin
        labels = [fit(tokens[i]) if i < len(tokens) else "" for i in ticks]
        axes.set_yticks(ticks, labels, **_text_style(size))
        axes.set_xticks(ticks, labels, rotation=90, **_text_style(size))
        axes.tick_params(length=0)
    axes.set_xlabel("key (attended to)")
    axes.set_ylabel("query (attending)")
    figure.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    figure.suptitle(title, **_text_style(12))
    return figure


def render_grid(weights: np.ndarray, title: str, tile: int = 128, layer_ids: list[int] | None = None,
                head_ids: list[int] | None = None, tokens: Sequence[str] = ()) -> Figure:
    """All heads: [layers, heads, T, T] -> tiles in a grid, each titled "L<layer> H<head>" (with the
    model's indices from `layer_ids` / `head_ids` when `weights` is a selection). Tiles are too small
    for a label per token, so the tokens are written once under the title, in row and column order.
    Each tile is scaled to its own largest weight; the bar says so."""
    layers, heads = weights.shape[0], weights.shape[1]
    prepare_fonts([title, *tokens])
    tile_in, gap, margin, bar = tile / DPI, 0.3, 0.25, 1.0  # inches
    width = max(2 * margin + heads * (tile_in + gap) + bar, 5.0)
    token_size = 8
    token_lines = _token_lines(tokens, (width - 2 * margin) * 72, width=_measure(token_size)) if tokens else []
    band = 0.55 + len(token_lines) * 0.17 + 0.25  # inches: the title, the token lines, the first tiles' names
    height = band + layers * (tile_in + gap) - gap + margin
    figure = _new_figure(width, height)
    figure.text(margin / width, 1 - 0.12 / height, title, va="top", **_text_style(13))
    for i, line in enumerate(token_lines):
        figure.text(margin / width, 1 - (0.5 + i * 0.17) / height, line, va="top", **_text_style(token_size))
    for layer in range(layers):
        for head in range(heads):
            left = margin + head * (tile_in + gap)
            bottom = height - band - (layer + 1) * (tile_in + gap) + gap
            axes = figure.add_axes((left / width, bottom / height, tile_in / width, tile_in / height))
            heat = block_max(weights[layer, head].astype(np.float32), tile)
            axes.imshow(heat, cmap="viridis", vmin=0, vmax=float(heat.max()) or 1.0, interpolation="nearest")
            axes.set_axis_off()
            name_l = layer_ids[layer] if layer_ids else layer
            name_h = head_ids[head] if head_ids else head
            axes.set_title(f"L{name_l} H{name_h}", fontsize=8, loc="left", pad=3)
    left = margin + heads * (tile_in + gap)
    span = layers * (tile_in + gap) - gap
    bar_axes = figure.add_axes((left / width, (height - band - span) / height, 0.12 / width, span / height))
    colour_bar = figure.colorbar(ScalarMappable(Normalize(0, 1), "viridis"), cax=bar_axes, ticks=[0, 1])
    colour_bar.ax.set_yticklabels(["0", "max"], fontsize=8)
    colour_bar.set_label("each head's largest weight", fontsize=8)
    return figure


def _measure(size: float) -> Callable[[str], float]:
    """Width in points of a text drawn in our fonts at `size`, without drawing it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measurer, font = TextToPath(), FontProperties(family=list(font_families()), size=size)

    def width(text: str) -> float:
        with _quiet_glyphs():
            return measurer.get_text_width_height_descent(text, font, ismath=False)[0]
    return width


@contextmanager
def _quiet_glyphs() -> Iterator[None]:
    """Glyphs no font has are drawn as boxes; `missing_glyphs` reports them once, so matplotlib's
    warning for each glyph would only repeat it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        yield


def _display_width(text: str) -> int:
    """Characters, counting the wide ones of East Asian scripts twice (they are drawn twice as wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _token_lines(tokens: Sequence[str], limit: float, max_lines: int = 3,
                 width: Callable[[str], float] = _display_width) -> list[str]:
    """"N tokens, rows and columns in order: a b c ..." wrapped so no line is wider than `limit`
    (in the units of `width`: characters by default, points for a figure), cut after `max_lines`."""
    lines, line = [], f"{len(tokens)} tokens, rows and columns in order:"
    for token in tokens:
        piece = " " + fit(token)
        if width(line + piece) > limit:
            lines.append(line)
            line = piece.lstrip()
        else:
            line += piece
    lines.append(line)
    if len(lines) > max_lines:  # more tokens than lines: say so
        lines = lines[:max_lines]
        last = lines[-1]
        while len(last) > 1 and width(last + " …") > limit:
            last = last[:-1]
        lines[-1] = last + " …"
    return lines


def save_figure(figure: Figure, path: str | Path) -> None:
    """Write `figure` as an SVG when `path` ends in .svg, else as a PNG (whatever the suffix says)."""
    kind = "svg" if str(path).lower().endswith(".svg") else "png"
    with _quiet_glyphs():
        figure.savefig(path, format=kind, facecolor="white")
