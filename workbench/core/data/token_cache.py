"""Token caches: a text file encoded once into a flat binary file of token ids, read by memmap.

The file is raw little-endian ``uint16`` when every id fits (vocabulary of at most 65536 tokens)
and ``uint32`` otherwise, with no header, like nanoGPT's ``train.bin``. The text is streamed in
chunks cut where tokenization cannot change (see `workbench.core.tokenizers.text`), so the cache
equals encoding the whole text in one call. The file is written under a temporary name and
renamed into place at the end; on cancel or error the temporary file is removed.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import numpy as np

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Progress
from workbench.core.tokenizers.text import iter_text_chunks
from workbench.core.tokenizers.tokenizer import WorkbenchTokenizer

UINT16_LIMIT = 1 << 16


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
