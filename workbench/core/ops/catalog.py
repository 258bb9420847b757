"""Project-level operations that put datasets, tokenizers and token caches into a project.

Each function is a generator (progress events, cancellation by `close()`) that writes its files
into a temporary folder, renames it into place and only then inserts the row that points at it.
On any failure or cancellation the folder is removed and the database is left as it was.
"""

from __future__ import annotations

import json
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
from workbench.core.data.token_cache import (
    SPLITS,
    StaleCacheError,
    build_token_cache,
    cache_dtype,
    cache_record,
    check_token_cache,
    open_token_cache,
)
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
    unfinished = _unfinished_tokenizer(store, dataset_row, spec) if build_cache else None
    if unfinished is not None:  # the same command was killed while encoding: finish it rather than refuse
        yield Notice(f"tokenizer {spec.name!r} was made before, but encoding the dataset with it was interrupted; "
                     "encoding it now", level="info")
        yield from ensure_token_cache(store, dataset_row, unfinished)
        return unfinished
    _require_new_name(store, "tokenizers", "tokenizer", spec.name)
    folder = _ArtifactFolder(store, "tokenizers")
    try:
        tokenizer = yield from train_tokenizer(spec, dataset_file(store, dataset_row, "train.txt"), folder.tmp)
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


def tokenizer_dir(store: ProjectStore, tokenizer_row: dict[str, Any]) -> Path:
    """The tokenizer's folder, confined to the project (`ProjectStore.path`)."""
    return store.path(tokenizer_row["dir"], what=f"the folder of tokenizer {tokenizer_row['name']!r}")


def dataset_file(store: ProjectStore, dataset_row: dict[str, Any], name: str) -> Path:
    """A file of the dataset's folder (train.txt, val.txt, source.txt), confined to the project."""
    return store.path(dataset_row["dir"], name, what=f"{name} of dataset {dataset_row['name']!r}")


def load_project_tokenizer(store: ProjectStore, tokenizer_row: dict[str, Any]) -> WorkbenchTokenizer:
    return load_tokenizer(tokenizer_dir(store, tokenizer_row))


def tokenizer_spec(tokenizer_row: dict[str, Any]) -> TokenizerSpec:
    return spec_from_dict(TokenizerSpec, tokenizer_row["spec"])


def _token_data_in_memory(store: ProjectStore, dataset_row: dict[str, Any],
                          tokenizer: WorkbenchTokenizer) -> Generator[Event, None, TokenData]:
    """A read-only project has nowhere to keep a cache: encode into a temporary folder outside it
    and hold the ids in memory for this one use (evaluating a read-only project still works)."""
    yield Notice("the project is read-only: encoding the dataset for this use only (the result is not saved)")
    dtype = cache_dtype(tokenizer.vocab_size)
    ids = {}
    with tempfile.TemporaryDirectory(prefix="workbench-cache-") as tmp:
        for split in ("train", "val"):
            path = Path(tmp) / f"{split}.bin"
            yield from build_token_cache(tokenizer, dataset_file(store, dataset_row, f"{split}.txt"), path)
            ids[split] = np.fromfile(path, dtype=dtype)
    return TokenData(ids["train"], ids["val"], tokenizer.vocab_size, np.dtype(dtype).name)


def ensure_token_cache(store: ProjectStore, dataset_row: dict[str, Any], tokenizer_row: dict[str, Any],
                       tokenizer: WorkbenchTokenizer | None = None) -> Generator[Event, None, TokenData]:
    """The dataset encoded with the tokenizer, built once and memory-mapped afterwards."""
    vocab_size = int(tokenizer_row["vocab_size"])
    facts = {"tokenizer_sha256": verified_tokenizer_sha256(store, tokenizer_row), "vocab_size": vocab_size,
             "dataset_sha256": dataset_row["sha256"],
             "sources": {split: dataset_file(store, dataset_row, f"{split}.txt") for split in SPLITS}}
    cached = store.get_token_cache(dataset_row["id"], tokenizer_row["id"])
    if cached is not None:
        cache_dir = store.path(cached["dir"], what=f"the token cache of dataset {dataset_row['name']!r} "
                                                   f"with tokenizer {tokenizer_row['name']!r}")
        try:
            arrays = check_token_cache(cached.get("checks"), cache_dir, **facts)
            return TokenData(arrays["train"], arrays["val"], vocab_size, cached["dtype"])
        except StaleCacheError as exc:
            yield Notice(f"the token cache {cached['dir']} of dataset {dataset_row['name']!r} with tokenizer "
                         f"{tokenizer_row['name']!r} {exc}; rebuilding it")
        if not store.read_only:
            _drop_token_cache(store, cached["id"], cache_dir)
    tokenizer = tokenizer or load_project_tokenizer(store, tokenizer_row)
    if store.read_only:
        return (yield from _token_data_in_memory(store, dataset_row, tokenizer))
    folder = _ArtifactFolder(store, "caches")
    try:
        counts = {}
        for split in ("train", "val"):
            counts[split] = yield from build_token_cache(tokenizer, dataset_file(store, dataset_row, f"{split}.txt"),
                                                         folder.tmp / f"{split}.bin")
        checks = cache_record(cache_dir=folder.tmp, **facts)
        folder.commit()
        store.insert("token_caches", {
            "dataset_id": dataset_row["id"], "tokenizer_id": tokenizer_row["id"], "dir": store.relative(folder.final),
            "dtype": np.dtype(cache_dtype(vocab_size)).name, "train_tokens": counts["train"],
            "val_tokens": counts["val"], "created": now_iso(), "checks": checks,
        })
    except BaseException:
        folder.discard()
        raise
    return TokenData(open_token_cache(folder.final / "train.bin", vocab_size),
                     open_token_cache(folder.final / "val.bin", vocab_size), vocab_size,
                     np.dtype(cache_dtype(vocab_size)).name)


def verified_tokenizer_sha256(store: ProjectStore, tokenizer_row: dict[str, Any]) -> str:
    """The sha256 of the tokenizer's tokenizer.json, refused unless it is the one recorded when it was
    made: token caches and runs built with it would silently mean something else."""
    name = tokenizer_row["name"]
    try:
        digest = sha256_file(tokenizer_dir(store, tokenizer_row) / "tokenizer.json")
    except OSError as exc:
        raise WorkbenchError(f"tokenizer {name!r} cannot be read ({exc.strerror or exc}); make a new tokenizer "
                             "with `workbench tokenizer PROJECT --dataset NAME --name NEW` and train with it") from exc
    if digest != tokenizer_row["sha256"]:
        raise WorkbenchError(f"tokenizer {name!r} was changed after it was made (its tokenizer.json no longer matches "
                             "the sha256 recorded in the project); restore the file, or make a new tokenizer with "
                             "`workbench tokenizer PROJECT --dataset NAME --name NEW` and train with it")
    return digest


def _drop_token_cache(store: ProjectStore, cache_id: int, cache_dir: Path) -> None:
    """Forget a stale cache; its folder goes too when it is one of the project's cache folders (a
    tampered row may name any folder of the project)."""
    store.execute("DELETE FROM token_caches WHERE id = ?", (cache_id,))
    if cache_dir.parent == store.root / "caches" and not cache_dir.name.startswith("."):
        shutil.rmtree(cache_dir, ignore_errors=True)


def _unfinished_tokenizer(store: ProjectStore, dataset_row: dict[str, Any],
                          spec: TokenizerSpec) -> dict[str, Any] | None:
    """The tokenizer this same request made before, when its process was killed while encoding the
    dataset (its row exists, its token cache does not)."""
    rows = store.rows("tokenizers", "name = ?", (spec.name,))
    if not rows or rows[0]["dataset_id"] != dataset_row["id"]:
        return None
    if rows[0]["spec"] != json.loads(json.dumps(spec_to_dict(spec))):  # as stored: tuples become lists
        return None
    return rows[0] if store.get_token_cache(dataset_row["id"], rows[0]["id"]) is None else None
