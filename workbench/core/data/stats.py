"""Streaming statistics of an imported dataset.

Nothing here keeps the documents: characters are counted in batches with numpy, and each document
leaves only its length in characters and bytes and a 64-bit BLAKE2b hash (24 bytes a document), from
which duplicates, the train/validation overlap and the length histogram are computed at the end.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable

import numpy as np

TOP_CHARACTERS = 30
HISTOGRAM_BINS = 20
EXAMPLES = 5
EXAMPLE_CHARS = 200
_COUNT_BATCH = 1 << 20  # characters gathered before one numpy count


class CharCounter:
    """Counts of each code point, plus lines, over all text added."""

    def __init__(self) -> None:
        self._counts = np.zeros(128, dtype=np.int64)
        self._pending: list[str] = []
        self._pending_chars = 0

    def add(self, text: str) -> None:
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars >= _COUNT_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        text = "".join(self._pending)
        if text.isascii():  # the common case: one byte a character, a quarter of the memory traffic
            codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        else:
            codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        self._pending, self._pending_chars = [], 0
        counted = np.bincount(codes)
        if len(counted) > len(self._counts):
            self._counts = np.pad(self._counts, (0, len(counted) - len(self._counts)))
        self._counts[: len(counted)] += counted

    def unique(self) -> int:
        self._flush()
        return int(np.count_nonzero(self._counts))

    def most_common(self, k: int = TOP_CHARACTERS) -> list[list]:
        """[[char, count], ...], most frequent first; ties in code point order."""
        self._flush()
        order = np.argsort(-self._counts, kind="stable")[:k]
        return [[chr(int(c)), int(self._counts[c])] for c in order if self._counts[c]]


class DocumentLog:
    """Measures the documents as they are written: lengths, hash, lines, characters."""

    def __init__(self) -> None:
        self.chars = array("q")
        self.nbytes = array("q")
        self.hashes = array("Q")
        self.lines = 0
        self.counter = CharCounter()
        self._begin()

    def _begin(self) -> None:
        self._hash = hashlib.blake2b(digest_size=8)
        self._chars = self._bytes = self._newlines = 0
        self._last = ""

    def add(self, text: str, data: bytes) -> None:
        """One cleaned piece of the current document, and its UTF-8 bytes."""
        self._hash.update(data)
        self._chars += len(text)
        self._bytes += len(data)
        self._newlines += text.count("\n")
        self._last = text[-1]
        self.counter.add(text)

    def end(self) -> bool:
        """Close the current document; False (and nothing recorded) when it was empty."""
        if not self._chars:
            self._begin()
            return False
        self.chars.append(self._chars)
        self.nbytes.append(self._bytes)
        self.hashes.append(int.from_bytes(self._hash.digest(), "little"))
        self.lines += self._newlines + (self._last != "\n")
        self._begin()
        return True

    def __len__(self) -> int:
        return len(self.chars)


def _histogram(lengths: np.ndarray) -> dict:
    lo, hi = int(lengths.min()), int(lengths.max())
    if hi == lo:
        edges = np.array([lo, lo + 1])
    elif hi > 20 * lo:  # long-tailed: geometric bins keep the short documents visible
        edges = np.unique(np.round(np.geomspace(lo, hi + 1, HISTOGRAM_BINS + 1)).astype(np.int64))
    else:
        edges = np.unique(np.round(np.linspace(lo, hi + 1, HISTOGRAM_BINS + 1)).astype(np.int64))
    counts, _ = np.histogram(lengths, bins=edges)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def _examples(indices: np.ndarray, counts: np.ndarray | None, text_of: Callable[[int], str]) -> list[dict]:
    out = []
    for i, index in enumerate(indices[:EXAMPLES]):
        text = text_of(int(index))
        item: dict[str, str | int] = {"text": text[:EXAMPLE_CHARS] + ("…" if len(text) > EXAMPLE_CHARS else "")}
        if counts is not None:
            item["count"] = int(counts[i])
        out.append(item)
    return out


def build_stats(log: DocumentLog, val_mask: np.ndarray, *, split: str, train_chars: int, val_chars: int,
                dropped_empty: int, text_of: Callable[[int], str]) -> dict:
    """The statistics dict (JSON-able). `text_of(i)` gives the start of document i, for examples."""
    lengths = np.frombuffer(log.chars, dtype=np.int64)
    hashes = np.frombuffer(log.hashes, dtype=np.uint64)
    n = len(lengths)
    unique, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    repeated = np.argsort(first[counts > 1], kind="stable")
    train_hashes, val_hashes = hashes[~val_mask], hashes[val_mask]
    shared = np.flatnonzero(val_mask)[np.isin(val_hashes, train_hashes)] if split == "documents" else np.array([])
    return {
        "characters": int(lengths.sum()),
        "lines": int(log.lines),
        "documents": n,
        "unique_characters": log.counter.unique(),
        "top_characters": log.counter.most_common(),
        "document_length": {
            "min": int(lengths.min()), "mean": round(float(lengths.mean()), 1), "max": int(lengths.max()),
            "histogram": _histogram(lengths),
        },
        "duplicates": {
            "documents": int(n - len(unique)),  # documents that repeat an earlier one exactly
            "examples": _examples(first[counts > 1][repeated], counts[counts > 1][repeated], text_of),
        },
        "train_val_overlap": {
            "documents": int(len(shared)),  # validation documents that also occur in train
            "examples": _examples(shared, None, text_of),
        },
        "split": split,  # "documents" | "tail" | "none"
        "train_documents": int(n - val_mask.sum()) if split != "tail" else 1,
        "val_documents": int(val_mask.sum()) if split != "tail" else int(val_chars > 0),
        "train_chars": int(train_chars),
        "val_chars": int(val_chars),
        "empty_documents_dropped": int(dropped_empty),
    }
