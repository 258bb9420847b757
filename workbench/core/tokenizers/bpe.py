"""Byte-level BPE trained with the `tokenizers` library, streamed from the training file.

Byte-level means every string, whatever its script, emoji or control characters, is first turned
into bytes, so there is no unknown token and decode(encode(x)) == x exactly. Training runs the
Rust trainer on a helper thread fed chunk by chunk from a bounded queue, so this generator can
report progress while the file is read and stays cancellable: closing it stops the feed, which
ends the trainer. (The final merge computation, after the whole file was read, cannot be
interrupted; on cancel it finishes in the background and its result is dropped.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

from tokenizers import AddedToken, decoders, models, pre_tokenizers, trainers
from tokenizers import Tokenizer as BackendTokenizer

from workbench.core.base.events import Progress
from workbench.core.tokenizers.text import iter_text_chunks, split_pieces

# Pieces handed to the trainer: small enough for its parallel word counting to use every core.
FEED_PIECE_CHARS = 1 << 16
_HEARTBEAT_S = 0.25


class _FeedStopped(Exception):
    """Raised inside the trainer's iterator when the generator was closed."""


_END = object()
_STOP = object()


def new_bpe_backend() -> BackendTokenizer:
    backend = BackendTokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    return backend


def train_bpe(path: Path, vocab_size: int, min_frequency: int, specials: Sequence[str],
              chunk_chars: int = 1 << 20) -> Generator[Progress, None, BackendTokenizer]:
    """Train a byte-level BPE on the file; special tokens get the first ids, in order."""
    backend = new_bpe_backend()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
        special_tokens=[AddedToken(s, special=True, normalized=False) for s in specials],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    feed: queue.Queue = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def pieces() -> Iterator[str]:
        while True:
            item = feed.get()
            if item is _END:
                return
            if item is _STOP:
                raise _FeedStopped
            yield from item

    def run() -> None:
        try:
            backend.train_from_iterator(pieces(), trainer)
        except BaseException as exc:  # re-raised on the generator's side
            failure.append(exc)

    worker = threading.Thread(target=run, name="bpe-trainer", daemon=True)
    worker.start()
    total = path.stat().st_size

    def send(item: object, done: int) -> Generator[Progress, None, bool]:
        while worker.is_alive():
            try:
                feed.put(item, timeout=_HEARTBEAT_S)
                return True
            except queue.Full:
                yield Progress("train-tokenizer", done, total, unit="bytes", message="counting words")
        return False

    finished = False
    try:
        for chunk, done in iter_text_chunks(path, chunk_chars):
            if not (yield from send(split_pieces(chunk, FEED_PIECE_CHARS), done)):
                break
            yield Progress("train-tokenizer", done, total, unit="bytes", message="counting words")
        yield from send(_END, total)
        while worker.is_alive():
            worker.join(_HEARTBEAT_S)
            yield Progress("train-tokenizer", total, total, unit="bytes", message="computing merges")
        finished = True
    finally:
        if not finished:
            _drain(feed)
            _put_nowait(feed, _STOP)
            worker.join(_HEARTBEAT_S)
    if failure:
        raise failure[0]
    return backend


def _drain(feed: queue.Queue) -> None:
    try:
        while True:
            feed.get_nowait()
    except queue.Empty:
        pass


def _put_nowait(feed: queue.Queue, item: object) -> None:
    """Put a control item, making room if the trainer is not reading any more."""
    while True:
        try:
            feed.put_nowait(item)
            return
        except queue.Full:
            _drain(feed)
