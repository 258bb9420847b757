"""The dataset panel's jobs: generators that run on a job thread (JobRunner), never in the GUI thread.

They import the core lazily (the core's tokenizer modules load the `tokenizers` library, and
nothing here may slow the window's start). Each returns a plain value: a database row, or an
`Encoding` made of Python numbers and strings, so results cross threads safely.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.base.events import Notice

MAX_SHOWN_TOKENS = 4000  # the token view shows this many; the counts cover the whole text


@dataclass(frozen=True)
class Encoding:
    """A text encoded by one tokenizer, with what the tokenizer lab shows about it."""

    tokenizer_id: int
    tokenizer_name: str
    kind: str
    vocab_size: int
    chars: int  # characters of the text
    token_count: int  # tokens of the whole text
    distinct_ids: int  # different token ids used
    unknown_chars: int  # characters of the text that became an unknown token
    ids: tuple[int, ...]  # the first MAX_SHOWN_TOKENS ids
    texts: tuple[str, ...]  # their display texts
    special_ids: frozenset[int]  # ids to mark as special (unknown, end of text, ...)
    unknown_id: int | None = None  # shown as the character it replaced, marked unknown

    @property
    def tokens_per_char(self) -> float:
        return self.token_count / self.chars if self.chars else 0.0

    @property
    def char_coverage(self) -> float:
        """Share of the text's characters that are not `<unk>`."""
        return 1.0 - self.unknown_chars / self.chars if self.chars else 1.0

    @property
    def vocab_used(self) -> float:
        """Share of the vocabulary this text uses."""
        return self.distinct_ids / self.vocab_size if self.vocab_size else 0.0


def import_job(store: Any, sources: Sequence[str | Path], spec: Any) -> Iterator[Any]:
    """Import files into the project as described by a `DatasetSpec`; returns the dataset row."""
    from workbench.core.ops.catalog import import_into_project

    yield Notice(f"Importing {spec.name!r}…", level="info")
    return (yield from import_into_project(store, [str(s) for s in sources], spec))


def sample_job(store: Any, key: str, name: str) -> Iterator[Any]:
    """Generate a built-in sample and import it; returns the dataset row."""
    from workbench.core.ops.catalog import import_sample

    yield Notice(f"Generating the sample {key!r}…", level="info")
    return (yield from import_sample(store, key, name))


def tokenizer_job(store: Any, dataset: str, spec: Any) -> Iterator[Any]:
    """Train (or copy) a tokenizer on a dataset and encode the dataset with it; returns its row."""
    from workbench.core.ops.catalog import create_tokenizer

    yield Notice(f"Making tokenizer {spec.name!r} ({spec.kind}) from {dataset!r}…", level="info")
    return (yield from create_tokenizer(store, dataset, spec))


# ---- encoding a sample text ----------------------------------------------------------------------

_loaded: dict[tuple[str, str], Any] = {}  # (tokenizer folder, sha256) -> Tokenizer
_loaded_lock = threading.Lock()


def _project_tokenizer(store: Any, row: dict[str, Any]) -> Any:
    from workbench.core.ops.catalog import load_project_tokenizer, tokenizer_dir

    key = (str(tokenizer_dir(store, row)), str(row["sha256"]))
    with _loaded_lock:
        tokenizer = _loaded.get(key)
    if tokenizer is None:
        tokenizer = load_project_tokenizer(store, row)
        with _loaded_lock:
            if len(_loaded) > 16:
                _loaded.clear()
            _loaded[key] = tokenizer
    return tokenizer


def _unknown_chars(tokenizer: Any, text: str, ids: list[int]) -> int:
    unk = tokenizer.unk_token_id
    if unk is None:
        return 0
    if tokenizer.kind == "char":  # one token per character
        return sum(1 for i in ids if i == unk)
    encoding = tokenizer.backend.encode(text, add_special_tokens=False)  # offsets: how much each covers
    return sum(end - start for i, (start, end) in zip(encoding.ids, encoding.offsets, strict=True) if i == unk)


def _display_texts(tokenizer: Any, text: str, ids: list[int], all_ids: int) -> tuple[str, ...]:
    """`token_text` of each id; a character-level `<unk>` shows the character it stands for."""
    from workbench.core.tokenizers.display import visible

    texts = [tokenizer.token_text(i) for i in ids]
    # One token per code point, unless a special token's literal text was matched (then positions shift).
    if tokenizer.kind == "char" and all_ids == len(text) and tokenizer.unk_token_id in ids:
        for index, token_id in enumerate(ids):
            if token_id == tokenizer.unk_token_id:
                texts[index] = visible(text[index])
    return tuple(texts)


def encode_job(store: Any, tokenizer_id: int, text: str) -> Iterator[Any]:
    """Encode `text` with a project tokenizer; returns an `Encoding`."""
    yield from ()  # a generator that reports nothing: the lab says "Encoding…", the status bar stays quiet
    row = store.get_tokenizer(tokenizer_id)
    tokenizer = _project_tokenizer(store, row)
    ids = tokenizer.encode(text)
    shown = ids[:MAX_SHOWN_TOKENS]
    special = set(tokenizer.special_tokens.values())
    if tokenizer.unk_token_id is not None:
        special.add(tokenizer.unk_token_id)
    return Encoding(
        tokenizer_id=int(row["id"]), tokenizer_name=row["name"], kind=tokenizer.kind,
        vocab_size=int(tokenizer.vocab_size), chars=len(text), token_count=len(ids),
        distinct_ids=len(set(ids)), unknown_chars=_unknown_chars(tokenizer, text, ids),
        ids=tuple(int(i) for i in shown), texts=_display_texts(tokenizer, text, shown, len(ids)),
        special_ids=frozenset(int(i) for i in special), unknown_id=tokenizer.unk_token_id)
