"""Attention PNGs: the grid names its tokens, long token lists are cut visibly, files are valid PNGs."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from workbench.core.attention.figures import _token_lines, render_grid, write_png
from workbench.core.attention.font import CELL_W


def causal(layers: int, heads: int, length: int) -> np.ndarray:
    weights = np.tril(np.random.default_rng(0).random((layers, heads, length, length)))
    return weights / weights.sum(-1, keepdims=True)


def test_token_lines_wrap_in_order_and_say_when_cut():
    tokens = [f"tok{i}" for i in range(200)]
    lines = _token_lines(tokens, 60, max_lines=3)
    assert len(lines) == 3 and all(len(line) <= 60 for line in lines)
    assert lines[0].startswith("200 tokens") and "tok0 tok1 tok2" in lines[0]
    assert lines[-1].endswith(" …")
    short = _token_lines(["T", "o", "·", "b", "e"], 60)
    assert short == ["5 tokens, rows and columns in order: T o · b e"]


def test_grid_makes_room_for_its_token_line():
    weights = causal(2, 3, 19)
    bare = render_grid(weights, "run")
    named = render_grid(weights, "run", tokens=list("To be, or not to be"))
    assert named.shape[1] == bare.shape[1] and named.shape[0] > bare.shape[0]
    title_band = named[: named.shape[0] - bare.shape[0] + 30]
    assert (title_band < 128).any()  # ink: the tokens are drawn
    assert (bare.shape[1] - 8) // CELL_W >= 40


def test_png_file_is_valid(tmp_path):
    image = render_grid(causal(1, 2, 8), "run", tokens=list("abcdefgh"))
    path = tmp_path / "grid.png"
    write_png(path, image)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (height, width) == image.shape[:2]
    length = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + length])
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * 3)
    assert (rows[:, 1:].reshape(height, width, 3) == image).all()
