"""Project-level operations that put datasets, tokenizers and token caches into a project.

Each function is a generator (progress events, cancellation by `close()`) that writes its files
into a temporary folder, renames it into place and only then inserts the row that points at it.
On any failure or cancellation the folder is removed and the database is left as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Notice, Progress
from workbench.core.base.specs import DatasetSpec, TokenizerSpec, spec_from_dict, spec_to_dict
from workbench.core.data.importer import ImportResult, import_dataset
from workbench.core.data.token_cache import build_token_cache, cache_dtype, open_token_cache
from workbench.core.project.checkpoints import sha256_file
from workbench.core.project.store import ProjectStore, now_iso
from workbench.core.tokenizers.tokenizer import WorkbenchTokenizer, load_tokenizer, train_tokenizer

Event = Progress | Notice


@dataclass(frozen=True)
class TokenData:
    """A dataset encoded with one tokenizer: read-only memory maps of token ids."""

    train: np.ndarray
    val: np.ndarray
    vocab_size: int
    dtype: str


class _ArtifactFolder:
    """A temporary folder under the project that becomes `final` on `commit()`, else disappears."""

    def __init__(self, store: ProjectStore, kind: str) -> None:
        self.tmp, self.final = store.new_artifact_dir(kind)
        self.committed = False

    def commit(self) -> None:
        ProjectStore.commit_artifact_dir(self.tmp, self.final)
        self.committed = True

    def discard(self) -> None:
        shutil.rmtree(self.final if self.committed else self.tmp, ignore_errors=True)


def _require_new_name(store: ProjectStore, table: str, what: str, name: str) -> None:
    if store.name_taken(table, name):
        raise WorkbenchError(f"a {what} named {name!r} already exists in this project; choose another --name")


def import_into_project(store: ProjectStore, sources: Sequence[str | Path], spec: DatasetSpec,
                        sample_key: str | None = None) -> Generator[Event, None, dict[str, Any]]:
    """Import files into the project as a new dataset; returns the dataset row."""
    spec.validate()
    _require_new_name(store, "datasets", "dataset", spec.name)
    folder = _ArtifactFolder(store, "datasets")
    try:
        result = yield from import_dataset([Path(s) for s in sources], spec, folder.tmp)
        folder.commit()
        row = {
            "name": spec.name, "dir": store.relative(folder.final), "format": result.format,
            "sources": [str(Path(s).resolve()) for s in sources], "spec": spec_to_dict(spec),
            "stats": _with_sources_report(result), "train_chars": result.train_chars, "val_chars": result.val_chars,
            "documents": result.documents, "sha256": result.sha256, "sample": sample_key,
            "created": now_iso(),
        }
        dataset_id = store.insert("datasets", row)
    except BaseException:
        folder.discard()
        raise
    return store.get_dataset(dataset_id)


MAX_SKIPPED_LISTED = 1000


def _with_sources_report(result: ImportResult) -> dict[str, Any]:
    """The statistics plus what was read how and what was left out (kept with the dataset, shown by
    the CLI's --json and the dataset panel)."""
    skipped = [{"path": path, "reason": reason} for path, reason in result.skipped[:MAX_SKIPPED_LISTED]]
    return {**result.stats, "encodings": dict(result.encodings), "skipped": skipped,
            "skipped_count": len(result.skipped)}


def import_sample(store: ProjectStore, key: str, name: str | None = None, size_bytes: int | None = None,
                  val_fraction: float = 0.1) -> Generator[Event, None, dict[str, Any]]:
    """Generate a built-in sample dataset and import it like any text file."""
    from workbench.core.samples.builtin import SAMPLES, write_sample

    if key not in SAMPLES:
        raise WorkbenchError(f"no built-in sample {key!r}; choose one of: {', '.join(SAMPLES)}")
    spec = DatasetSpec(name=name or key, format="txt", val_fraction=val_fraction)
    spec.validate()
    _require_new_name(store, "datasets", "dataset", spec.name)
    with tempfile.TemporaryDirectory(prefix="wb-sample-") as tmp:
        path = yield from write_sample(key, Path(tmp) / f"{key}.txt", size_bytes=size_bytes)
        return (yield from import_into_project(store, [path], spec, sample_key=key))


def create_tokenizer(store: ProjectStore, dataset: str | int, spec: TokenizerSpec,
                     build_cache: bool = True) -> Generator[Event, None, dict[str, Any]]:
    """Train (or copy a pretrained) tokenizer on a dataset's training split; returns its row.

    With `build_cache`, the dataset's token cache for this tokenizer is built too, so a run can
    start at once.
    """
    spec.validate()
    dataset_row = store.get_dataset(dataset)
    _require_new_name(store, "tokenizers", "tokenizer", spec.name)
    folder = _ArtifactFolder(store, "tokenizers")
    try:
        tokenizer = yield from train_tokenizer(spec, store.path(dataset_row["dir"]) / "train.txt", folder.tmp)
        folder.commit()
        row = {
            "name": spec.name, "kind": spec.kind, "dataset_id": dataset_row["id"],
            "vocab_size": tokenizer.vocab_size, "dir": store.relative(folder.final), "spec": spec_to_dict(spec),
            "sha256": sha256_file(folder.final / "tokenizer.json"), "created": now_iso(),
        }
        tokenizer_id = store.insert("tokenizers", row)
    except BaseException:
        folder.discard()
        raise
    tokenizer_row = store.get_tokenizer(tokenizer_id)
    if build_cache:
        try:
            yield from ensure_token_cache(store, dataset_row, tokenizer_row, tokenizer)
        except BaseException:  # cancelled or failed while encoding: leave no half-made tokenizer behind
            store.execute("DELETE FROM tokenizers WHERE id = ?", (tokenizer_id,))
            folder.discard()
            raise
    return tokenizer_row


def load_project_tokenizer(store: ProjectStore, tokenizer_row: dict[str, Any]) -> WorkbenchTokenizer:
    return load_tokenizer(store.path(tokenizer_row["dir"]))


def tokenizer_spec(tokenizer_row: dict[str, Any]) -> TokenizerSpec:
    return spec_from_dict(TokenizerSpec, tokenizer_row["spec"])


def ensure_token_cache(store: ProjectStore, dataset_row: dict[str, Any], tokenizer_row: dict[str, Any],
                       tokenizer: WorkbenchTokenizer | None = None) -> Generator[Event, None, TokenData]:
    """The dataset encoded with the tokenizer, built once and memory-mapped afterwards."""
    vocab_size = int(tokenizer_row["vocab_size"])
    cached = store.get_token_cache(dataset_row["id"], tokenizer_row["id"])
    if cached is not None:
        cache_dir = store.path(cached["dir"])
        if (cache_dir / "train.bin").is_file() and (cache_dir / "val.bin").is_file():
            return TokenData(open_token_cache(cache_dir / "train.bin", vocab_size),
                             open_token_cache(cache_dir / "val.bin", vocab_size), vocab_size, cached["dtype"])
        yield Notice(f"token cache {cached['dir']} is missing; rebuilding it")
        store.execute("DELETE FROM token_caches WHERE id = ?", (cached["id"],))
    tokenizer = tokenizer or load_project_tokenizer(store, tokenizer_row)
    source_dir = store.path(dataset_row["dir"])
    folder = _ArtifactFolder(store, "caches")
    try:
        counts = {}
        for split in ("train", "val"):
            counts[split] = yield from build_token_cache(tokenizer, source_dir / f"{split}.txt", folder.tmp / f"{split}.bin")
        folder.commit()
        store.insert("token_caches", {
            "dataset_id": dataset_row["id"], "tokenizer_id": tokenizer_row["id"], "dir": store.relative(folder.final),
            "dtype": np.dtype(cache_dtype(vocab_size)).name, "train_tokens": counts["train"],
            "val_tokens": counts["val"], "created": now_iso(),
        })
    except BaseException:
        folder.discard()
        raise
    return TokenData(open_token_cache(folder.final / "train.bin", vocab_size),
                     open_token_cache(folder.final / "val.bin", vocab_size), vocab_size,
                     np.dtype(cache_dtype(vocab_size)).name)
