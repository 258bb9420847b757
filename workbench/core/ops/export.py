"""Export a run's checkpoint as a plain Hugging Face folder (model + tokenizer files).

The checkpoint's model files were written by `modeling.save_model_dir`, which already makes them
loadable by `AutoModelForCausalLM` (gpt2, llama) or `AutoModelForMaskedLM` (bert); the export copies
them and the tokenizer files side by side, leaving out the training state, and renames the folder
into place when complete.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from workbench.core.base.errors import WorkbenchError
from workbench.core.project.checkpoints import (
    MANIFEST,
    STATE_FILE,
    TENSOR_FILES,
    TOKENIZER_DIR,
    verified_checkpoint,
)
from workbench.core.project.store import ProjectStore

TRAINING_ONLY = {MANIFEST, STATE_FILE, *TENSOR_FILES}


def export_run(store: ProjectStore, run_key: str | int, out: Path, which: str | int = "latest") -> dict[str, Any]:
    """Write checkpoint `which` of a run to the new folder `out`; returns what was written."""
    run = store.get_run(run_key)
    if run["arch"] == "lstm":
        raise WorkbenchError(f"run {run['name']!r} is an LSTM, which has no transformers model class, so it cannot "
                             f"be exported for from_pretrained; use it inside LM Workbench (generate, attention) instead")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise WorkbenchError(f"{out} already exists and is not an empty folder; choose a new --out folder")
    row, folder = verified_checkpoint(store, run, which)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        for item in folder.iterdir():
            if item.is_file() and item.name not in TRAINING_ONLY:
                shutil.copy2(item, tmp / item.name)
        tokenizer_dir = folder / TOKENIZER_DIR
        if tokenizer_dir.is_dir():
            for item in tokenizer_dir.iterdir():
                if item.is_file():
                    shutil.copy2(item, tmp / item.name)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"run": run["id"], "name": run["name"], "arch": run["arch"], "step": row["step"], "out": str(out.resolve()),
            "files": sorted(p.name for p in out.iterdir())}
