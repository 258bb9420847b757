"""Attention snapshots during training: a time-lapse of how a fixed probe text is attended to.

At each evaluation the trainer calls `save_attention_snapshot`, which reads the attention of the
probe (at most `PROBE_TOKENS` tokens) and writes `runs/<slug>/attention/<step>.npz` (compressed:
float16 weights [layers, heads, T, T], labels, token ids, the probe text), under a temporary name
renamed into place. It writes no database row: the run's single writer (`RunRecorder`) inserts
the `attention_snapshots` row after the file exists (`snapshot_row` builds it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from workbench.core.attention.extraction import AttentionResult, attention_weights, readable_tokens
from workbench.core.base.errors import WorkbenchError
from workbench.core.inference.models import context_size, is_masked_lm
from workbench.core.models.attention_hooks import has_attention, unwrap
from workbench.core.project.paths import inside
from workbench.core.project.store import ProjectStore, now_iso
from workbench.core.tokenizers.protocol import Tokenizer

PROBE_TOKENS = 64
SNAPSHOT_DIR = "attention"


def save_attention_snapshot(store_or_root: ProjectStore | str | Path, run_dir: str | Path, step: int,
                            model: nn.Module, tokenizer: Tokenizer, probe_text: str) -> Path | None:
    """Write the attention of `probe_text` at `step` to `<run_dir>/attention/<step>.npz`.

    `run_dir` is the run's folder, absolute or relative to the project (`runs/<slug>`). Returns the
    absolute path, or None when the model has no attention (LSTM) or the probe encodes to nothing.
    The model may be the training module (lean GPT, compiled or DDP-wrapped): it is read in eval
    mode and given back in the mode it came in.
    """
    model = unwrap(model)
    if not has_attention(model):
        return None
    ids = list(tokenizer.encode(probe_text))[:PROBE_TOKENS]
    block = context_size(model)
    ids = ids[:block] if block else ids
    if not ids:
        return None
    weights = attention_weights(model, ids, block=len(ids), causal=not is_masked_lm(model))
    root = store_or_root.root if isinstance(store_or_root, ProjectStore) else Path(store_or_root)
    folder = inside(root, run_dir, SNAPSHOT_DIR, what=f"the attention folder of run folder {str(run_dir)!r}")
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{int(step)}.npz"
    tmp = folder / f".tmp-{int(step)}-{os.getpid()}.npz"
    try:
        np.savez_compressed(tmp, weights=weights, tokens=np.asarray(readable_tokens(tokenizer, ids), dtype=str),
                            token_ids=np.asarray(ids, dtype=np.int64), probe_text=np.asarray(probe_text),
                            step=np.asarray(int(step)), causal=np.asarray(not is_masked_lm(model)))
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def snapshot_row(store: ProjectStore, run_id: int, step: int, path: str | Path, probe_text: str) -> dict[str, Any]:
    """The `attention_snapshots` row for a file written by `save_attention_snapshot`."""
    relative = store.relative(path) if Path(path).is_absolute() else Path(path).as_posix()
    return {"run_id": run_id, "step": int(step), "path": relative, "probe_text": probe_text, "created": now_iso()}


def load_attention_snapshot(path: str | Path) -> AttentionResult:
    try:
        with np.load(path, allow_pickle=False) as data:
            return AttentionResult(weights=data["weights"], tokens=tuple(str(t) for t in data["tokens"]),
                                   token_ids=tuple(int(i) for i in data["token_ids"]), causal=bool(data["causal"]))
    except (OSError, KeyError, ValueError) as exc:
        raise WorkbenchError(f"the attention snapshot {path} cannot be read ({exc}); "
                             "it will be written again at the next evaluation") from exc


@dataclass(frozen=True)
class AttentionSnapshot:
    step: int
    path: Path  # absolute
    probe_text: str

    def load(self) -> AttentionResult:
        return load_attention_snapshot(self.path)


def load_attention_snapshots(store: ProjectStore, run: str | int | dict[str, Any]) -> list[AttentionSnapshot]:
    """A run's snapshots in step order (load each with `.load()`, so a long time-lapse stays cheap).

    Uses the `attention_snapshots` rows; files written but not yet recorded (a run that is still
    going, or died between file and row) are picked up from the run's folder as well.
    """
    run = run if isinstance(run, dict) else store.get_run(run)
    found = {int(r["step"]): AttentionSnapshot(int(r["step"]), store.path(
                 r["path"], what=f"the attention snapshot of step {r['step']} of run {run['name']!r}"), r["probe_text"])
             for r in store.query("SELECT step, path, probe_text FROM attention_snapshots WHERE run_id = ?",
                                  (run["id"],))}
    folder = store.path(run["dir"], SNAPSHOT_DIR, what=f"the attention folder of run {run['name']!r}")
    if folder.is_dir():
        for file in folder.glob("*.npz"):
            if file.stem.isdigit() and int(file.stem) not in found:
                with np.load(file, allow_pickle=False) as data:
                    probe = str(data["probe_text"]) if "probe_text" in data else ""
                found[int(file.stem)] = AttentionSnapshot(int(file.stem), file, probe)
    return [found[step] for step in sorted(found) if found[step].path.exists()]
