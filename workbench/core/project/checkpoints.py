"""Checkpoint folders: written atomically, listed in a manifest of sha256 sums, verified before use.

Layout of `runs/<slug>/checkpoints/<step>/`:

    config.json, model.safetensors   the model (`modeling.save_model_dir`), loadable by transformers
    tokenizer/                       a copy of the project tokenizer's files (self-contained)
    optimizer.safetensors            optimizer tensors under flat names (see train_optim)
    rng.safetensors                  torch CPU/CUDA generator states as uint8 tensors
    trainer_state.json               step, counters, data position, Python/numpy RNG, optimizer groups
    manifest.json                    {"format", "step", "files": {relative path: sha256}}

The folder is written under a temporary name and renamed into place; the database row (written by
`run_records`) carries the sha256 of `manifest.json`. Nothing here unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.base.disk import disk_full_error, folder_size, is_disk_full
from workbench.core.base.errors import NotFoundError, WorkbenchError
from workbench.core.project.paths import inside
from workbench.core.project.tempdirs import TMP_PREFIX, remove_stale, temp_name

MANIFEST = "manifest.json"
STATE_FILE = "trainer_state.json"
TOKENIZER_DIR = "tokenizer"
TENSOR_FILES = ("optimizer.safetensors", "rng.safetensors")
FORMAT = 1
OLD_PREFIX = ".old-"  # a checkpoint being replaced by a newer save of the same step


class DamagedCheckpointError(WorkbenchError):
    """A checkpoint's files do not match its manifest (or the manifest does not match its row)."""


@dataclass(frozen=True)
class SavedCheckpoint:
    step: int
    path: Path
    sha256: str  # of manifest.json


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(checkpoints_dir: Path, step: int, *, write_model: Callable[[Path], None],
                    state: dict[str, Any], tensor_files: dict[str, dict[str, Any]],
                    tokenizer_dir: Path | None = None) -> SavedCheckpoint:
    """Write checkpoint `step` into `checkpoints_dir/<step>/` atomically and return its manifest hash."""
    from safetensors.torch import save_file

    tmp = checkpoints_dir / temp_name()  # names its owner: `remove_leftovers` keeps a live writer's folder
    final = checkpoints_dir / str(step)
    try:
        checkpoints_dir.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        write_model(tmp)
        if tokenizer_dir is not None and Path(tokenizer_dir).is_dir():
            shutil.copytree(tokenizer_dir, tmp / TOKENIZER_DIR)
        for name, tensors in tensor_files.items():
            save_file(tensors, str(tmp / name))
        (tmp / STATE_FILE).write_text(json.dumps({"format": FORMAT, "step": step, **state}))
        files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = json.dumps({"format": FORMAT, "step": step, "files": files}, indent=1).encode()
        (tmp / MANIFEST).write_bytes(manifest)
        _move_into_place(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_disk_full(exc):  # the older checkpoints are untouched: say so, and what this one needs
            raise disk_full_error(f"checkpoint {step}", checkpoints_dir,
                                  lambda: _expected_size(checkpoints_dir, tensor_files, tokenizer_dir),
                                  then="resume the run (its last complete checkpoint is kept)") from exc
        raise
    return SavedCheckpoint(step=step, path=final, sha256=hashlib.sha256(manifest).hexdigest())


def _expected_size(checkpoints_dir: Path, tensor_files: dict[str, dict[str, Any]], tokenizer_dir: Path | None) -> int:
    """About the bytes of a new checkpoint: the previous one's size, else the optimizer tensors plus
    the weights (AdamW keeps two values per parameter, so the weights are half its tensors)."""
    sizes = [folder_size(d) for d in checkpoints_dir.iterdir() if d.is_dir() and d.name.isdigit()]
    if sizes:
        return max(sizes)
    tensors = sum(t.numel() * t.element_size() for group in tensor_files.values() for t in group.values())
    return tensors + tensors // 2 + (folder_size(tokenizer_dir) if tokenizer_dir else 0)


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename `tmp` to `final`; an older folder of the same step (a run resumed from further back) goes."""
    if final.exists():
        old = final.with_name(temp_name(OLD_PREFIX))
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(final)


def verify_checkpoint(path: Path, expected_sha256: str | None = None, label: str | None = None) -> dict[str, Any]:
    """Check every file against `manifest.json` (and the manifest against its row); return the manifest."""
    label = label or str(path)
    manifest_path = Path(path) / MANIFEST
    fix = "pick another checkpoint of the run, or start a new run"  # worded for resuming and for sampling alike
    if not manifest_path.is_file():
        raise DamagedCheckpointError(f"checkpoint {label} is damaged or incomplete: it has no {MANIFEST}; {fix}")
    raw = manifest_path.read_bytes()
    if expected_sha256 and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise DamagedCheckpointError(f"checkpoint {label} is damaged: {MANIFEST} does not match the sha256 "
                                     f"recorded in the project; {fix}")
    try:
        manifest = json.loads(raw)
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DamagedCheckpointError(f"checkpoint {label} is damaged: {MANIFEST} is unreadable ({exc}); {fix}") from exc
    for rel, digest in files.items():
        file = inside(path, rel, what=f"file {rel!r} in {MANIFEST} of checkpoint {label}")
        if not file.is_file():
            raise DamagedCheckpointError(f"checkpoint {label} is damaged: {rel} is missing; {fix}")
        if sha256_file(file) != digest:
            raise DamagedCheckpointError(f"checkpoint {label} is damaged: {rel} does not match its sha256 "
                                         f"in {MANIFEST}; {fix}")
    return manifest


def read_checkpoint_state(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(trainer_state.json, {tensor file name: tensors}) of a verified checkpoint; no pickle involved."""
    from safetensors.torch import load_file

    state = json.loads((Path(path) / STATE_FILE).read_text())
    tensors = {name: load_file(str(Path(path) / name)) for name in TENSOR_FILES if (Path(path) / name).is_file()}
    return state, tensors


def remove_checkpoint_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def remove_leftovers(checkpoints_dir: Path) -> None:
    """Temporary folders of a save that a killed process left behind (not those of a live one)."""
    remove_stale(checkpoints_dir, TMP_PREFIX)
    remove_stale(checkpoints_dir, OLD_PREFIX)


# ---- choosing a checkpoint of a run (reads the project; rows are written by run_records) ----------

def find_checkpoint(store, run: dict[str, Any], which: str | int = "latest") -> dict[str, Any]:
    """The checkpoint row of `run` named by `which`: "latest", "best" or a step number."""
    rows = store.list_checkpoints(run["id"])
    if not rows:
        raise NotFoundError(f"run {run['name']!r} has no checkpoint yet; train it first (checkpoints are saved "
                            f"at every evaluation)")
    if which == "latest":
        flagged = [r for r in rows if r["is_latest"]]
        return flagged[-1] if flagged else rows[-1]
    if which == "best":
        flagged = [r for r in rows if r["is_best"]]
        if flagged:
            return flagged[-1]
        with_loss = [r for r in rows if r["val_loss"] is not None]
        return min(with_loss, key=lambda r: r["val_loss"]) if with_loss else rows[-1]
    if not str(which).isdigit():
        raise NotFoundError(f"unknown checkpoint {which!r}: use latest, best or a step number")
    matches = [r for r in rows if r["step"] == int(which)]
    if not matches:
        steps = ", ".join(str(r["step"]) for r in rows)
        raise NotFoundError(f"run {run['name']!r} has no checkpoint at step {which} (it has: {steps})")
    return matches[0]


def checkpoint_label(run: dict[str, Any], row: dict[str, Any]) -> str:
    """How an error names a checkpoint row."""
    return f"checkpoint {row['step']} of run {run['name']!r} (row {row['id']} of the checkpoints table)"


def verified_checkpoint(store, run: dict[str, Any], which: str | int = "latest") -> tuple[dict[str, Any], Path]:
    """`find_checkpoint` plus manifest verification; returns (row, absolute folder)."""
    row = find_checkpoint(store, run, which)
    path = store.path(row["dir"], what=checkpoint_label(run, row))
    verify_checkpoint(path, row["sha256"], label=row["dir"])
    return row, path


def resume_checkpoint(store, run: dict[str, Any]) -> tuple[dict[str, Any], Path, list[str]] | None:
    """The newest checkpoint of `run` that verifies, and a note for each damaged one skipped; None when
    the run has no checkpoint at all (queued, or killed before its first evaluation: it starts over).

    Raises `DamagedCheckpointError` naming the latest checkpoint when none verifies.
    """
    rows = sorted(store.list_checkpoints(run["id"]), key=lambda r: (r["is_latest"], r["step"]), reverse=True)
    if not rows:
        return None
    # every row is confined before anything is written: a resumed run deletes the folders of the rows
    # past its step and retention deletes others, so one row leading outside the project refuses it all
    paths = [store.path(row["dir"], what=checkpoint_label(run, row)) for row in rows]
    notes: list[str] = []
    first_error: DamagedCheckpointError | None = None
    for row, path in zip(rows, paths, strict=True):
        try:
            verify_checkpoint(path, row["sha256"], label=row["dir"])
        except DamagedCheckpointError as exc:
            first_error = first_error or exc
            notes.append(f"{exc}; trying an earlier checkpoint")
            continue
        return row, path, notes
    assert first_error is not None
    raise first_error
