"""Export a run's checkpoint as a plain Hugging Face folder (model + tokenizer files).

The checkpoint's model files were written by `modeling.save_model_dir`, which already makes them
loadable by `AutoModelForCausalLM` (gpt2, llama) or `AutoModelForMaskedLM` (bert); the export copies
them and the tokenizer files side by side, leaving out the training state, and renames the folder
into place when complete.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from workbench.core.base.disk import disk_full_error, is_disk_full
from workbench.core.base.errors import WorkbenchError
from workbench.core.project.checkpoints import (
    MANIFEST,
    STATE_FILE,
    TENSOR_FILES,
    TOKENIZER_DIR,
    verified_checkpoint,
)
from workbench.core.project.paths import inside
from workbench.core.project.store import ProjectStore
from workbench.core.project.tempdirs import remove_stale, temp_name

TRAINING_ONLY = {MANIFEST, STATE_FILE, *TENSOR_FILES}
CONFIG_FILE = "config.json"  # the transformers config beside the weights


def export_run(store: ProjectStore, run_key: str | int, out: Path, which: str | int = "latest") -> dict[str, Any]:
    """Write checkpoint `which` of a run to the new folder `out`; returns what was written."""
    run = store.get_run(run_key)
    if run["arch"] == "lstm":
        raise WorkbenchError(f"run {run['name']!r} is an LSTM, which has no transformers model class, so it cannot "
                             f"be exported for from_pretrained; use it inside LM Workbench (generate, attention) instead")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise WorkbenchError(f"{out} already exists and is not an empty folder; choose a new --out folder")
    _check_parent_is_folder(out)
    row, folder = verified_checkpoint(store, run, which)
    # the target lies outside the project, so no project open cleans it: an export killed before its
    # rename left its temporary folder beside the target, and the next export to that target removes it
    remove_stale(out.parent, prefix=f".{out.name}.tmp-")
    tmp = out.parent / temp_name(f".{out.name}.tmp-")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        # each file is confined to the checkpoint: a symlink out of it (a tampered project) is refused
        # rather than copied, so an export never carries a file from elsewhere on this computer
        label = f"checkpoint {row['step']} of run {run['name']!r}"
        for item in folder.iterdir():
            if item.is_file() and item.name not in TRAINING_ONLY and item.suffix != ".py":
                shutil.copy2(inside(folder, item.name, what=f"{item.name} in {label}"), tmp / item.name)
        _drop_custom_code(tmp / CONFIG_FILE)
        tokenizer_dir = folder / TOKENIZER_DIR
        if tokenizer_dir.is_dir():
            tokenizer_dir = inside(folder, TOKENIZER_DIR, what=f"the tokenizer of {label}")
            for item in tokenizer_dir.iterdir():
                if item.is_file():
                    shutil.copy2(inside(tokenizer_dir, item.name, what=f"tokenizer file {item.name} in {label}"),
                                 tmp / item.name)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk, no permission...: one line, the target left as it was
            raise _write_error(exc, out, folder) from exc
        raise
    return {"run": run["id"], "name": run["name"], "arch": run["arch"], "step": row["step"], "out": str(out.resolve()),
            "files": sorted(p.name for p in out.iterdir())}


def _drop_custom_code(config_path: Path) -> None:
    """An export never carries code: this app writes no Python into checkpoints, so a `*.py` file or an
    `auto_map` entry can only come from a tampered project, and would make transformers offer to run
    that code to whoever loads the exported folder later."""
    if not config_path.is_file():
        return
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.pop("auto_map", None) is not None:
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def _check_parent_is_folder(out: Path) -> None:
    """Refuse an --out below an existing file (`notes.txt/model`) before anything is written."""
    for parent in out.parents:
        if parent.exists():  # False for a path through a file, so the walk stops at that file
            if not parent.is_dir():
                raise WorkbenchError(f"cannot export to {out}: {parent} is a file, not a folder; "
                                     "choose an --out folder whose parent is a folder")
            return


def _write_error(exc: OSError, out: Path, folder: Path) -> WorkbenchError:
    if is_disk_full(exc):
        size = lambda: sum(p.stat().st_size for p in folder.rglob("*")  # noqa: E731 - computed only when needed
                           if p.is_file() and p.name not in TRAINING_ONLY)
        return disk_full_error(f"the export to {out}", out.parent, size, then="export again")
    where = f" ({exc.filename})" if exc.filename else ""
    return WorkbenchError(f"cannot export to {out}: {exc.strerror or exc}{where}; choose another --out folder")
