"""Token caches: a text file encoded once into a flat binary file of token ids, read by memmap.

The file is raw little-endian ``uint16`` when every id fits (vocabulary of at most 65536 tokens)
and ``uint32`` otherwise, with no header, like nanoGPT's ``train.bin``. The text is streamed in
chunks cut where tokenization cannot change (see `workbench.core.tokenizers.text`), so the cache
equals encoding the whole text in one call. The file is written under a temporary name and
renamed into place at the end; on cancel or error the temporary file is removed.

What a cache was built from is recorded with it (`cache_record`: the tokenizer's sha256, the
vocabulary size, the sizes of the source texts and of the cache files) and checked before each use
(`check_token_cache`), so a cache that no longer matches its tokenizer or text, or that was cut
short or overwritten, is rebuilt instead of feeding the model ids it has no embedding for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Mapping
from pathlib import Path

import numpy as np

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Progress
from workbench.core.tokenizers.text import iter_text_chunks
from workbench.core.tokenizers.tokenizer import WorkbenchTokenizer

UINT16_LIMIT = 1 << 16
SPLITS = ("train", "val")
RECORD_FORMAT = 1


class StaleCacheError(WorkbenchError):
    """A token cache does not match what it was built from, or its ids do not fit the vocabulary."""


def cache_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id (0 .. vocab_size - 1) fits in 16 bits, else uint32."""
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be positive (got {vocab_size})")
    return np.dtype("<u2") if vocab_size <= UINT16_LIMIT else np.dtype("<u4")


def build_token_cache(tok: WorkbenchTokenizer, text_path: Path, out_path: Path,
                      chunk_chars: int = 1 << 20) -> Generator[Progress, None, int]:
    """Encode `text_path` into `out_path`; yields Progress once per chunk; returns the token count."""
    text_path, out_path = Path(text_path), Path(out_path)
    dtype = cache_dtype(tok.vocab_size)
    total = text_path.stat().st_size if text_path.exists() else None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    count = 0
    try:
        with open(tmp_path, "wb") as handle:
            yield Progress("encode", 0, total, unit="bytes", message="0 tokens")
            for chunk, done in iter_text_chunks(text_path, chunk_chars):
                ids = tok.encode_array(chunk)
                if _max_id(ids) >= tok.vocab_size:  # would wrap around in the cast below
                    raise WorkbenchError(f"the tokenizer produced token id {_max_id(ids)}, outside its own "
                                         f"vocabulary of {tok.vocab_size} tokens, so it is damaged; make a new "
                                         "tokenizer (workbench tokenizer ...) and train with it")
                handle.write(ids.astype(dtype, copy=False).tobytes())
                count += len(ids)
                yield Progress("encode", done, total, unit="bytes", message=f"{count:,} tokens")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, out_path)
    except OSError as exc:
        raise WorkbenchError(f"could not write the token cache {out_path} ({exc.strerror or exc}); "
                             "check free disk space and permissions") from exc
    finally:
        tmp_path.unlink(missing_ok=True)
    return count


def open_token_cache(path: Path, vocab_size: int) -> np.memmap:
    """The cache as a read-only array (a memmap; an empty cache gives an empty read-only array)."""
    path = Path(path)
    dtype = cache_dtype(vocab_size)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise WorkbenchError(f"token cache {path} is missing; it is rebuilt when you train again") from exc
    if size % dtype.itemsize:
        raise WorkbenchError(f"token cache {path} is damaged (its size is not a whole number of "
                             f"{dtype.name} ids); delete it and it is rebuilt when you train again")
    if size == 0:  # mmap cannot map an empty file
        empty = np.zeros(0, dtype=dtype)
        empty.flags.writeable = False
        return empty  # type: ignore[return-value]
    return np.memmap(path, dtype=dtype, mode="r")


def _max_id(ids: np.ndarray) -> int:
    """The largest id, -1 when empty (one pass: about 17 ms per 100M uint16 ids from memory)."""
    return int(ids.max()) if len(ids) else -1


def cache_record(tokenizer_sha256: str, vocab_size: int, dataset_sha256: str, sources: Mapping[str, Path],
                 cache_dir: Path) -> dict[str, object]:
    """What a freshly built cache in `cache_dir` was made from, stored with its row (JSON)."""
    return {**_expected(tokenizer_sha256, vocab_size, dataset_sha256, sources),
            "files": {split: (Path(cache_dir) / f"{split}.bin").stat().st_size for split in SPLITS}}


def _expected(tokenizer_sha256: str, vocab_size: int, dataset_sha256: str,
              sources: Mapping[str, Path]) -> dict[str, object]:
    return {"format": RECORD_FORMAT, "tokenizer_sha256": tokenizer_sha256, "vocab_size": int(vocab_size),
            "dtype": cache_dtype(vocab_size).name, "dataset_sha256": dataset_sha256,
            "sources": {split: Path(sources[split]).stat().st_size for split in SPLITS}}


def check_token_cache(recorded: object, cache_dir: Path, *, tokenizer_sha256: str, vocab_size: int,
                      dataset_sha256: str, sources: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """The cache's splits as read-only arrays, or `StaleCacheError` saying why it must be rebuilt.

    Cheap checks first (the record against the tokenizer's sha256, the vocabulary, the dataset and the
    file sizes), then one max over the ids: in-place damage keeps every size, and the max costs a
    fraction of hashing the files."""
    if isinstance(recorded, str):
        try:
            recorded = json.loads(recorded)
        except ValueError:
            recorded = None
    if not isinstance(recorded, dict):
        raise StaleCacheError("has no record of what it was built from (made by an older version)")
    try:
        expected = _expected(tokenizer_sha256, vocab_size, dataset_sha256, sources)
        sizes = {split: (Path(cache_dir) / f"{split}.bin").stat().st_size for split in SPLITS}
    except OSError as exc:
        raise StaleCacheError(f"is missing a file ({exc.strerror or exc})") from exc
    reasons = {"tokenizer_sha256": "was built with a different tokenizer.json",
               "vocab_size": "was built for another vocabulary size", "dtype": "was built for another vocabulary size",
               "dataset_sha256": "was built from another text", "sources": "was built from another text",
               "format": "has a record this version does not read"}
    for key, reason in reasons.items():
        if recorded.get(key) != expected[key]:
            raise StaleCacheError(reason)
    if recorded.get("files") != sizes:
        raise StaleCacheError(f"has files of {sizes} bytes where {recorded.get('files')} were written (cut short?)")
    arrays: dict[str, np.ndarray] = {split: open_token_cache(Path(cache_dir) / f"{split}.bin", vocab_size)
                                     for split in SPLITS}
    for split, ids in arrays.items():
        if _max_id(ids) >= vocab_size:
            raise StaleCacheError(f"holds token id {_max_id(ids)} in {split}.bin, outside the vocabulary of "
                                  f"{vocab_size} tokens (damaged)")
    return arrays
