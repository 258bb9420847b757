"""Writing the dataset: a spool of cleaned documents, then train.txt / val.txt from it.

The documents are not known in number until the last source is read, and the validation
documents are drawn from all of them, so the first pass writes the cleaned UTF-8 documents one
after the other into a spool file in the output folder (their byte lengths are in the
`DocumentLog`), and the second pass copies each document to train or val. With a single
document the spool becomes train.txt by truncation after its tail is copied to val.txt.
All files are written in binary, so newlines are "\\n" on every system.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Generator, Iterable
from pathlib import Path

import numpy as np

from workbench.core.base.events import Progress
from workbench.core.data.stats import EXAMPLE_CHARS, DocumentLog

COPY_BYTES = 1 << 20
PROGRESS_BYTES = 4 << 20


class Spool:
    """Cleaned documents written back to back; `log` measures them as they go."""

    def __init__(self, path: Path):
        self.path = path
        self.log = DocumentLog()
        self.dropped = 0  # documents that were empty after cleaning
        self._file = path.open("wb")
        self._offsets: np.ndarray | None = None

    def write(self, text: str) -> None:
        if text:
            data = text.encode("utf-8")
            self._file.write(data)
            self.log.add(text, data)

    def end_document(self) -> bool:
        kept = self.log.end()
        self.dropped += not kept
        return kept

    def close(self) -> None:
        self._file.close()

    def text_of(self, index: int) -> str:
        """The start of document `index` (enough for an example), read back from the spool."""
        if self._offsets is None:
            self._offsets = np.concatenate(([0], np.cumsum(np.frombuffer(self.log.nbytes, dtype=np.int64))))
        size = min(int(self.log.nbytes[index]), 4 * (EXAMPLE_CHARS + 1))
        with self.path.open("rb") as f:
            f.seek(int(self._offsets[index]))
            return f.read(size).decode("utf-8", errors="ignore")


def uneven_split_message(requested: float, train_chars: int, val_chars: int, documents: int) -> str:
    """A warning when whole documents make the validation share far from the one asked for, else ""."""
    total = train_chars + val_chars
    if requested <= 0 or total == 0 or documents < 2:
        return ""
    share = val_chars / total
    if abs(share - requested) <= max(0.05, requested / 2):
        return ""
    return (f"validation holds {share:.0%} of the text, not the {requested:.0%} asked for: the split keeps "
            f"documents whole and there are only {documents:,}. Import more documents, or the text as one "
            "file (then the tail is cut at the exact fraction)")


def choose_validation(n: int, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the validation documents: round(n * fraction) of them (at least 1, at most n - 1)."""
    mask = np.zeros(n, dtype=bool)
    if fraction <= 0 or n < 2:
        return mask
    k = min(n - 1, max(1, round(n * fraction)))
    mask[np.random.default_rng(seed).permutation(n)[:k]] = True
    return mask


def _copy(src, dst, size: int) -> None:
    while size > 0:
        data = src.read(min(size, COPY_BYTES))
        if not data:
            raise OSError("the spool file ended early")
        dst.write(data)
        size -= len(data)


def write_document_split(spool: Spool, mask: np.ndarray, separator: str, train_path: Path,
                         val_path: Path) -> Generator[Progress, None, tuple[int, int]]:
    """Copy each document to train or val, joined by `separator`; returns (train_chars, val_chars)."""
    sep = separator.encode("utf-8")
    total = sum(spool.log.nbytes)
    done = reported = 0
    started = [False, False]
    with spool.path.open("rb") as src, train_path.open("wb") as train, val_path.open("wb") as val:
        for size, to_val in zip(spool.log.nbytes, mask.tolist(), strict=True):
            dst = val if to_val else train
            if started[to_val]:
                dst.write(sep)
            started[to_val] = True
            _copy(src, dst, size)
            done += size
            if done - reported >= PROGRESS_BYTES:
                reported = done
                yield Progress(stage="split", done=done, total=total)
    chars = np.frombuffer(spool.log.chars, dtype=np.int64)
    n_val = int(mask.sum())
    n_train = len(mask) - n_val
    train_chars = int(chars[~mask].sum()) + len(separator) * max(0, n_train - 1)
    val_chars = int(chars[mask].sum()) + len(separator) * max(0, n_val - 1)
    return train_chars, val_chars


MAX_LINE_SNAP = 4096  # characters the tail cut may move to reach a line start


def _line_cut(window: str, k: int, lo: int, hi: int) -> int:
    """The line start nearest to index k in `window`, kept within [lo, hi]; k when there is none."""
    candidates = []
    before = window.rfind("\n", 0, k)
    after = window.find("\n", k)
    candidates += [before + 1] if before >= 0 else []
    candidates += [after + 1] if after >= 0 else []
    candidates = [c for c in candidates if lo <= c <= hi]
    return min(candidates, key=lambda c: abs(c - k)) if candidates else k


def write_tail_split(spool: Spool, val_target: int, train_path: Path,
                     val_path: Path) -> Generator[Progress, None, tuple[int, int]]:
    """Cut one document: its last ~`val_target` characters go to val, from a line start when one lies
    near the exact cut (within half of `val_target` or 1% of the text, at most MAX_LINE_SNAP
    characters), else mid-line."""
    total_chars = int(spool.log.chars[0])
    cut_char = total_chars - min(max(val_target, 0), total_chars - 1)
    cut_byte = int(spool.log.nbytes[0])
    if cut_char < total_chars:
        cut_char, cut_byte = yield from _find_cut(spool.path, cut_char, total_chars)
    with spool.path.open("r+b") as src, val_path.open("wb") as val:
        src.seek(cut_byte)
        _copy(src, val, int(spool.log.nbytes[0]) - cut_byte)
        src.truncate(cut_byte)
    os.replace(spool.path, train_path)
    return cut_char, total_chars - cut_char


def _find_cut(path: Path, cut_char: int, total_chars: int) -> Generator[Progress, None, tuple[int, int]]:
    """(char, byte) position of the cut near `cut_char`, searched in the chunk around it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    char_pos = byte_pos = 0  # where `text` starts
    previous, previous_bytes = "", 0
    with path.open("rb") as f:
        while True:
            data = f.read(COPY_BYTES)
            pending = len(decoder.getstate()[0])
            text = decoder.decode(data, final=not data)
            text_bytes = len(data) + pending - len(decoder.getstate()[0])
            if char_pos + len(text) >= cut_char or not data:
                window = previous + text
                start_char = char_pos - len(previous)
                # a long line must not move the cut far: at most half the validation text or 1% of the whole
                slack = max(1, min(MAX_LINE_SNAP, max((total_chars - cut_char) // 2, total_chars // 100)))
                k = _line_cut(window, cut_char - start_char, max(1 - start_char, cut_char - start_char - slack),
                              min(total_chars - 1 - start_char, cut_char - start_char + slack))
                start_byte = byte_pos - previous_bytes
                return start_char + k, start_byte + len(window[:k].encode("utf-8"))
            previous, previous_bytes = text, text_bytes
            char_pos += len(text)
            byte_pos += text_bytes
            yield Progress(stage="split", done=byte_pos, total=None)


def sha256_of(paths: Iterable[Path]) -> Generator[Progress, None, str]:
    """sha256 of the files' bytes one after the other."""
    paths = list(paths)
    total = sum(path.stat().st_size for path in paths)
    digest = hashlib.sha256()
    done = 0
    for path in paths:
        with path.open("rb") as f:
            while data := f.read(COPY_BYTES):
                digest.update(data)
                done += len(data)
                yield Progress(stage="hash", done=done, total=total)
    return digest.hexdigest()
