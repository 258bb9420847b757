"""Llama in the attention explorer (issue 15, point 7): grouped-query attention (4 query heads sharing
2 key/value heads) is shown per query head, in the snapshot, the map and the all-heads grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import TINY_RUN, make_words_project

from workbench.cli import main

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

N_HEAD, N_KV_HEAD, N_LAYER = 4, 2, 2


@pytest.fixture(scope="module")
def llama(tmp_path_factory) -> Path:
    root = make_words_project(tmp_path_factory.mktemp("llama") / "p.wbproj")
    args = [*map(str, TINY_RUN)]
    at = args.index("--n-head")
    del args[at:at + 2]
    assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", "llama", *args,
                 "--n-head", str(N_HEAD), "--n-kv-head", str(N_KV_HEAD), "--name", "llama", "--json"]) == 0
    return root


def test_grouped_query_heads_are_shown_per_query_head(qtbot, window, llama):
    assert window.open_project(llama)
    panel = window.panels.attention
    panel.run.setCurrentIndex(panel.run.findData("llama"))
    assert panel.snapshot.count() > 0 and panel._weights.shape[:2] == (N_LAYER, N_HEAD)  # the saved snapshot
    qtbot.waitUntil(panel.show_button.isEnabled, timeout=60_000)
    panel.text_edit.setPlainText("the king speaks to his men")
    assert panel.request_attention()
    qtbot.waitUntil(lambda: panel.used.text().startswith("Used run llama"), timeout=60_000)
    weights = panel._weights
    assert weights.shape == (N_LAYER, N_HEAD, 26, 26)
    assert [panel.head.itemText(i) for i in range(panel.head.count())] == [
        "Mean of heads", *(f"Head {h}" for h in range(N_HEAD))]
    panel.layer.setValue(1)
    panel.head.setCurrentIndex(panel.head.findData(N_HEAD - 1))  # a head beyond the 2 key/value heads
    np.testing.assert_allclose(panel.heatmap.matrix(), weights[1, N_HEAD - 1].astype(np.float32))
    np.testing.assert_allclose(panel.heatmap.matrix().sum(-1), 1, atol=0.02)
    # Heads 0 and 1 share one key/value head but have their own queries: two different maps.
    assert not np.allclose(weights[1, 0].astype(np.float32), weights[1, 1].astype(np.float32))
    panel.tabs.setCurrentWidget(panel.grid_page)
    grid = panel.overview.grid_view.grid
    assert grid.thumbs.shape[:2] == (N_LAYER, N_HEAD)
