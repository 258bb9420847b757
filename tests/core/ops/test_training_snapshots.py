"""The trainer stores the attention of a fixed probe at each evaluation (the GUI's time-lapse)."""

from __future__ import annotations

import numpy as np

from workbench.cli import main
from workbench.core.attention.snapshots import load_attention_snapshots
from workbench.core.project.store import ProjectStore


def test_each_evaluation_writes_an_attention_snapshot(tmp_path, capsys):
    root = tmp_path / "p.wbproj"
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log.\n" * 200)
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(text), "--name", "t"]) == 0
    assert main(["train", str(root), "--dataset", "t", "--n-layer", "2", "--n-head", "2", "--n-embd", "32",
                 "--block-size", "32", "--batch-size", "4", "--max-steps", "6", "--eval-interval", "3",
                 "--device", "cpu", "--json"]) == 0
    capsys.readouterr()
    with ProjectStore.open(root) as store:
        snapshots = load_attention_snapshots(store, 1)
        rows = store.query("SELECT step, path FROM attention_snapshots ORDER BY step")
    assert [s.step for s in snapshots] == [3, 6] == [r["step"] for r in rows]
    first, last = snapshots[0].load(), snapshots[1].load()
    assert first.weights.dtype == np.float16 and first.weights.shape[:2] == (2, 2)
    n = first.weights.shape[-1]
    assert 8 <= n <= 32 and first.weights.shape == last.weights.shape
    assert np.allclose(first.weights.astype(np.float32).sum(-1), 1, atol=1e-2)
    assert np.allclose(np.triu(first.weights.astype(np.float32), 1), 0)  # causal
    assert snapshots[0].probe_text == snapshots[1].probe_text and snapshots[0].probe_text
    assert not np.array_equal(first.weights, last.weights)  # the model changed between evaluations
