"""Dataset import: read text / Markdown / folders / JSONL / CSV / Parquet, clean, split, measure.

`import_dataset` is a generator (see DESIGN.md, threads): it yields `Progress` and `Notice` events
and returns an `ImportResult`. It writes into `out_dir`:

- `train.txt`, `val.txt`: normalised UTF-8 (no BOM, "\\n" newlines when newline normalisation is on),
  documents joined by `DOC_SEPARATOR`; `val.txt` is empty when `val_fraction` is 0;
- `stats.json`: the statistics (also in `ImportResult.stats`).

Sources are streamed, so memory stays flat however large a file is. With several documents the
validation set is exactly round(n * val_fraction) documents (at least 1, at most n - 1) drawn by
a permutation seeded with `spec.seed`; they keep their source order inside each file. A single
document is cut instead: its tail (from a line start near the cut, where there is one) goes to val.

`stats["characters"]` counts document characters; `train_chars` / `val_chars` are the lengths of
train.txt / val.txt in characters, separators included. On an error or on `close()` the files
written into `out_dir` are removed (the caller owns `out_dir` itself).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.events import Notice, Progress
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.preview import Preview, preview
from workbench.core.data.readers import (
    DEFAULT_FIELD,
    PlannedFile,
    SourcePlan,
    StreamedDocument,
    detect_format,
    open_source,
    plan_sources,
)
from workbench.core.data.split import (
    Spool,
    choose_validation,
    sha256_of,
    uneven_split_message,
    write_document_split,
    write_tail_split,
)
from workbench.core.data.stats import build_stats
from workbench.core.data.text import FileRefusedError, StreamCleaner, clean_text

__all__ = ["DOC_SEPARATOR", "ImportResult", "Preview", "detect_format", "import_dataset", "preview"]

DOC_SEPARATOR = "\n\n"
TRAIN_FILE, VAL_FILE, STATS_FILE = "train.txt", "val.txt", "stats.json"
SPOOL_FILE = ".import-spool.tmp"
PROGRESS_BYTES = 1 << 20
MAX_SKIP_NOTICES = 20


@dataclass(frozen=True)
class ImportResult:
    format: str  # the format read ("txt", "jsonl", "folder", ...; "mixed" for several kinds)
    sources: tuple[str, ...]  # the paths given, resolved
    documents: int
    train_documents: int
    val_documents: int
    train_chars: int
    val_chars: int
    sha256: str  # of train.txt's bytes followed by val.txt's
    stats: dict
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason) for files left out
    encodings: dict[str, str] = field(default_factory=dict)  # file read -> utf-8 | utf-8-sig | utf-16-le | ...


class _Reader:
    """The first pass: every source file, cleaned, into the spool, with progress and skip notices."""

    def __init__(self, plan: SourcePlan, spec: DatasetSpec, spool: Spool):
        self.plan, self.spec, self.spool = plan, spec, spool
        self.field = spec.field or DEFAULT_FIELD
        self.total = plan.total_bytes
        self.done = self.reported = 0
        self.skipped: list[tuple[str, str]] = []
        self.encodings: dict[str, str] = {}

    def run(self) -> Generator[Progress | Notice, None, None]:
        for path, reason in self.plan.skipped:
            yield from self._skip(path, reason)
        for planned in self.plan.files:
            yield from self._read_file(planned)
        if self.reported < self.total:
            yield Progress(stage="read", done=self.total, total=self.total)

    def _skip(self, path: str, reason: str) -> Generator[Notice, None, None]:
        self.skipped.append((path, reason))
        if len(self.skipped) <= MAX_SKIP_NOTICES:
            yield Notice(f"skipped {path}: {reason}")
        elif len(self.skipped) == MAX_SKIP_NOTICES + 1:
            yield Notice("more files were skipped; the import result lists them all", level="info")

    def _read_file(self, planned: PlannedFile) -> Generator[Progress | Notice, None, None]:
        try:
            source, items = open_source(planned, self.field, self.spec.replace_invalid, self.spec.encoding)
        except FileRefusedError as e:
            if not planned.in_folder:
                raise
            yield from self._skip(str(planned.path), e.reason)
            return
        kept = 0
        for item in items:
            if isinstance(item, Notice):
                yield item
                continue
            if isinstance(item, StreamedDocument):
                cleaner = StreamCleaner(self.spec)
                for piece in item.pieces:
                    self.spool.write(cleaner.feed(piece))
                    yield from self._progress(source)
                self.spool.write(cleaner.finish())
            else:
                self.spool.write(clean_text(item, self.spec))
            kept += self.spool.end_document()
            yield from self._progress(source)
        self.done += source.size
        if kept:
            self.encodings[str(planned.path)] = source.encoding
        elif planned.in_folder:
            yield from self._skip(str(planned.path), "no text left after cleaning")
        else:
            whitespace = " or whitespace" if self.spec.strip else ""
            raise ImportFailedError(f"{planned.path} contains no text to import (its records are all empty{whitespace}): "
                                    "check the file, or the field/column chosen")

    def _progress(self, source) -> Generator[Progress, None, None]:
        done = self.done + source.bytes_read
        if done - self.reported >= PROGRESS_BYTES:
            self.reported = done
            yield Progress(stage="read", done=done, total=self.total)


def _no_documents(reader: _Reader) -> ImportFailedError:
    if reader.skipped and not reader.encodings:
        shown = "; ".join(f"{p} ({r})" for p, r in reader.skipped[:3])
        return ImportFailedError(f"there is no text to import: every file was skipped ({len(reader.skipped)}: "
                                 f"{shown}). Folders supply .txt, .md, .markdown, .rst and .text files.")
    return ImportFailedError("there is no text to import: every document is empty after cleaning")


def import_dataset(sources: Sequence[Path], spec: DatasetSpec,
                   out_dir: Path) -> Generator[Progress | Notice, None, ImportResult]:
    """Read, clean and split `sources` into `out_dir`; see the module docstring."""
    spec.validate()
    paths = [Path(s) for s in sources]
    plan = plan_sources(paths, spec.format, spec.encoding)
    out_dir = Path(out_dir)
    train_path, val_path, stats_path = out_dir / TRAIN_FILE, out_dir / VAL_FILE, out_dir / STATS_FILE
    spool = None
    finished = False
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        spool = Spool(out_dir / SPOOL_FILE)
        reader = _Reader(plan, spec, spool)
        yield from reader.run()
        spool.close()
        n = len(spool.log)
        if n == 0:
            raise _no_documents(reader)
        mask = choose_validation(n, spec.val_fraction, spec.seed)
        if n == 1:  # one document: cut its tail (the spool becomes train.txt)
            split = "tail" if spec.val_fraction > 0 else "none"
            val_target = max(1, round(spool.log.chars[0] * spec.val_fraction)) if spec.val_fraction > 0 else 0
            train_chars, val_chars = yield from write_tail_split(spool, val_target, train_path, val_path)
        else:
            split = "documents" if mask.any() else "none"
            train_chars, val_chars = yield from write_document_split(spool, mask, DOC_SEPARATOR,
                                                                     train_path, val_path)
        # examples are read back from the spool, which still exists whenever there can be any (n > 1)
        stats = build_stats(spool.log, mask, split=split, train_chars=train_chars, val_chars=val_chars,
                            dropped_empty=spool.dropped, text_of=spool.text_of)
        stats["val_fraction_requested"] = spec.val_fraction
        uneven = uneven_split_message(spec.val_fraction, train_chars, val_chars, n)
        if uneven:
            yield Notice(uneven)
        stats_path.write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
        digest = yield from sha256_of([train_path, val_path])
        finished = True
    except OSError as e:  # sources are checked and wrapped earlier: this is mostly the output side
        raise ImportFailedError(f"could not read or write {e.filename or out_dir}: {e.strerror or e}. Check that "
                                "the disk has free space and the files and folders are accessible.") from e
    finally:
        if spool is not None:
            spool.close()
        leftovers = [spool.path] if spool is not None else []
        if not finished:
            leftovers += [train_path, val_path, stats_path]
        for path in leftovers:
            with contextlib.suppress(OSError):  # a failed clean-up must not hide the error that caused it
                path.unlink(missing_ok=True)
    return ImportResult(
        format=plan.format_name(spec.format),
        sources=tuple(str(p.resolve()) for p in paths),
        documents=n,
        train_documents=stats["train_documents"],
        val_documents=stats["val_documents"],
        train_chars=train_chars,
        val_chars=val_chars,
        sha256=digest,
        stats=stats,
        skipped=tuple(reader.skipped),
        encodings=dict(reader.encodings),
    )
