"""Attention explorer speed in the window (issue 15): 1024-token map hover and head/layer switch,
and the 12 x 12 all-heads grid at 256 tokens. Run: QT_QPA_PLATFORM=offscreen python bench/bench_attention_view.py"""

from __future__ import annotations

import sys
import time

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication


def maps(layers: int, heads: int, size: int) -> np.ndarray:
    w = np.random.default_rng(0).random((layers, heads, size, size), dtype=np.float32)
    w *= np.tril(np.ones((size, size), dtype=np.float32))
    return (w / w.sum(-1, keepdims=True)).astype(np.float16)


def ms(fn, repeats: int) -> float:
    app = QApplication.instance()
    start = time.perf_counter()
    for i in range(repeats):
        fn(i)
        app.processEvents()
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    app = QApplication(sys.argv)
    from workbench.ui.panels.attention.panel import AttentionPanel

    panel = AttentionPanel()
    panel.resize(1366, 768)
    panel.show()
    weights = maps(12, 12, 1024)
    panel.show_attention(weights, [f"t{i}" for i in range(1024)])
    app.processEvents()
    heatmap = panel.heatmap
    points = [heatmap.plot.vb.mapViewToScene(QPointF(x + 0.5, 900.5)) for x in range(0, 1000, 7)]
    hover = ms(lambda i: heatmap.plot.scene().sigMouseMoved.emit(points[i % len(points)]), 100)
    head = ms(lambda i: panel.head.setCurrentIndex(1 + i % 12), 12)
    layer = ms(lambda i: panel.layer.setValue(i % 12), 12)
    grid_weights = maps(12, 12, 256)
    panel.tabs.setCurrentWidget(panel.grid_page)
    panel.show_attention(grid_weights, [f"t{i}" for i in range(256)])
    grid = ms(lambda i: panel.overview.grid_view.set_weights(grid_weights), 5)
    print(f"1024 tokens: hover {hover:.1f} ms, switch head {head:.1f} ms, switch layer {layer:.1f} ms; "
          f"12x12 grid at 256 tokens {grid:.1f} ms")
    del app


if __name__ == "__main__":
    main()
