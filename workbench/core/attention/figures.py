"""Attention heatmaps as PNG files, with numpy and zlib only (no Qt in core, no Pillow dependency).

- `render_head`: one head, labelled: query tokens down the left, key tokens along the top (read
  bottom to top), a title and a colour bar. Colours are scaled to the head's largest weight so
  faint patterns stay visible; the bar says what the brightest colour means.
- `render_grid`: every head of every layer as small tiles (rows = layers, columns = heads).
Maps longer than the pixel budget are reduced by block maximum, so a single strong weight stays
visible. Labels use the built-in bitmap font of `attention_font`.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from workbench.core.attention.font import CELL_H, CELL_W, draw_text, fit

# Viridis at five stops (perceptually uniform, readable in grey and by colour-blind people).
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32)
BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
LABEL_CHARS = 12


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> RGB uint8 (viridis)."""
    position = np.clip(values, 0, 1) * (len(_STOPS) - 1)
    low = np.minimum(position.astype(np.int64), len(_STOPS) - 2)
    frac = (position - low)[..., None]
    return (_STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac).astype(np.uint8)


def block_max(matrix: np.ndarray, size: int) -> np.ndarray:
    """Shrink a square [T, T] map to at most `size` x `size` by taking the maximum of each block."""
    length = matrix.shape[-1]
    if length <= size:
        return matrix
    factor = -(-length // size)
    padded = np.zeros((factor * size, factor * size), dtype=matrix.dtype)
    padded[:length, :length] = matrix
    return padded.reshape(size, factor, size, factor).max(axis=(1, 3))


def _heat(matrix: np.ndarray, pixels: int) -> np.ndarray:
    """[T, T] -> an RGB block about `pixels` wide, each cell an integer number of pixels."""
    matrix = block_max(matrix.astype(np.float32), pixels)
    top = float(matrix.max()) or 1.0
    cell = max(1, pixels // matrix.shape[0])
    return colormap(matrix / top).repeat(cell, 0).repeat(cell, 1)


def render_head(weights: np.ndarray, tokens: list[str] | tuple[str, ...], title: str,
                pixels: int = 512) -> np.ndarray:
    """One head's [T, T] map with token labels, a title and a colour bar, as an RGB image."""
    length = weights.shape[-1]
    heat = _heat(weights, pixels)
    cell = heat.shape[0] / min(length, pixels)  # pixels per shown row
    every = max(1, int(np.ceil(CELL_H / cell)))  # label every n-th token when rows are thin
    shown = length <= pixels
    longest = min(LABEL_CHARS, max((len(t) for t in tokens), default=1))
    label_w = CELL_W * max(longest, 5) + 6 if shown else CELL_W * 6
    top_h = 2 * CELL_H + 8 + label_w
    left, bar_w = label_w, 40
    image = np.full((top_h + heat.shape[0] + 8, left + heat.shape[1] + bar_w + 8, 3), BACKGROUND, dtype=np.uint8)
    draw_text(image, 4, 4, title, INK, scale=2)
    image[top_h:top_h + heat.shape[0], left:left + heat.shape[1]] = heat
    if shown:
        for i in range(0, length, every):
            label = fit(tokens[i] if i < len(tokens) else "", LABEL_CHARS)
            offset = int(i * cell + (cell - CELL_H) / 2) + 1
            draw_text(image, left - CELL_W * len(label) - 4, top_h + offset, label, INK)
            draw_text(image, left + offset, top_h - CELL_W * len(label) - 4, label, INK, vertical=True)
    else:
        draw_text(image, 2, top_h, "query", INK)
        draw_text(image, left, top_h - CELL_H - 2, f"{length} keys", INK)
    _colour_bar(image, left + heat.shape[1] + 8, top_h, heat.shape[0], float(weights.max()))
    return image


def _colour_bar(image: np.ndarray, x: int, y: int, height: int, top: float) -> None:
    ramp = colormap(np.linspace(1, 0, max(2, height))[:, None])
    image[y:y + height, x:x + 10] = ramp.repeat(10, 1)
    draw_text(image, x + 12, y, f"{top:.2f}", INK)
    draw_text(image, x + 12, y + height - CELL_H, "0", INK)


def render_grid(weights: np.ndarray, title: str, tile: int = 128, layer_ids: list[int] | None = None,
                head_ids: list[int] | None = None, tokens: list[str] | tuple[str, ...] = ()) -> np.ndarray:
    """All heads: [layers, heads, T, T] -> tiles in a grid, each titled "L<layer> H<head>" (with the
    model's indices from `layer_ids` / `head_ids` when `weights` is a selection). Tiles are too small
    for a label per token, so the tokens are written once under the title, in row and column order."""
    layers, heads, length = weights.shape[0], weights.shape[1], weights.shape[-1]
    size = min(tile, length) * max(1, tile // length)
    gap, head_h = 8, CELL_H + 4
    width = max(gap + heads * (size + gap), 360)
    token_lines = _token_lines(tokens, (width - 8) // CELL_W) if tokens else []
    top = 2 * CELL_H + 12 + (len(token_lines) * (CELL_H + 2) + 4 if token_lines else 0)
    image = np.full((top + layers * (size + head_h + gap), width, 3), BACKGROUND, dtype=np.uint8)
    draw_text(image, 4, 4, title, INK, scale=2)
    for i, line in enumerate(token_lines):
        draw_text(image, 4, 2 * CELL_H + 10 + i * (CELL_H + 2), line, INK)
    for layer in range(layers):
        for head in range(heads):
            x, y = gap + head * (size + gap), top + layer * (size + head_h + gap)
            name_l = layer_ids[layer] if layer_ids else layer
            name_h = head_ids[head] if head_ids else head
            draw_text(image, x, y, f"L{name_l} H{name_h}", INK)
            heat = _heat(weights[layer, head], tile)
            image[y + head_h:y + head_h + heat.shape[0], x:x + heat.shape[1]] = heat
    return image


def _token_lines(tokens: list[str] | tuple[str, ...], chars: int, max_lines: int = 3) -> list[str]:
    """"tokens (rows and columns, in order): a b c ..." wrapped to `chars`, cut after `max_lines`."""
    lines, line = [], f"{len(tokens)} tokens, rows and columns in order:"
    for token in tokens:
        piece = " " + fit(token, LABEL_CHARS)
        if len(line) + len(piece) > chars:
            lines.append(line)
            line = piece.lstrip()
        else:
            line += piece
    lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:max(1, chars - 2)] + " …"  # more tokens than lines: say so
    return lines


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write an RGB uint8 [H, W, 3] image as an 8-bit truecolour PNG (zlib-compressed)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    raw = np.zeros((height, 1 + width * 3), dtype=np.uint8)  # filter byte 0 (none) per row
    raw[:, 1:] = rgb.reshape(height, width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) \
        + chunk(b"IEND", b"")
    Path(path).write_bytes(data)
