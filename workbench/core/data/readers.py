"""Readers: turn one source file into documents, plus format detection and folder listing.

A reader is a generator of items: a `str` is one whole document, a `StreamedDocument` is one
document whose text arrives in pieces (plain text files, however large), and a `Notice` is
passed on to the user. Each reader works on a source object whose `bytes_read` grows as it
reads, so the caller can report progress without the reader yielding events itself.

Non-string values (JSONL, Parquet): null is skipped (counted in a Notice); numbers, booleans,
lists and objects are refused with an error naming the file, the line and the type, because
silently turning `42` or `{"a": 1}` into training text is rarely what a user wants.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.events import Notice
from workbench.core.data.text import FileRefusedError, TextFile, looks_like_text, read_head

TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".rst")
_FORMAT_BY_SUFFIX = {
    ".txt": "txt", ".text": "txt", ".rst": "txt", ".md": "md", ".markdown": "md",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
}
DEFAULT_FIELD = "text"
PARQUET_HINT = "pip install lm-workbench[parquet]"
CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
               bool: "true/false", type(None): "null"}


def detect_format(path: Path) -> str:
    """"folder" for a directory, else by extension; unknown extensions are read as plain text."""
    path = Path(path)
    if path.is_dir():
        return "folder"
    return _FORMAT_BY_SUFFIX.get(path.suffix.lower(), "txt")


class StreamedDocument:
    """One document whose text arrives in pieces; consume `pieces` fully before the next item."""

    def __init__(self, pieces: Iterator[str]):
        self.pieces = pieces


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    format: str  # txt | md | jsonl | csv | parquet
    in_folder: bool  # found by listing a folder: refusals become skips


@dataclass
class SourcePlan:
    files: list[PlannedFile]
    skipped: list[tuple[str, str]]
    formats: list[str]  # per given source, as detected or forced

    @property
    def total_bytes(self) -> int:
        return sum(_size(f.path) for f in self.files)

    def format_name(self, requested: str) -> str:
        """The format to report: the one requested, the one detected, or "mixed"."""
        kinds = set(self.formats) if requested == "auto" else {requested}
        return kinds.pop() if len(kinds) == 1 else "mixed"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def plan_sources(sources: list[Path], fmt: str, encoding: str = "auto") -> SourcePlan:
    """Expand folders and pick each file's format; missing paths and format mismatches raise.
    `encoding` decides whether a folder's files without an extension read as text."""
    if not sources:
        raise ImportFailedError("there is nothing to import: choose at least one file or folder")
    plan = SourcePlan([], [], [])
    for path in sources:
        if not path.exists():
            raise ImportFailedError(f"file not found: {path}; check the path and try again")
        kind = detect_format(path) if fmt == "auto" else fmt
        plan.formats.append("folder" if path.is_dir() else kind)
        if path.is_dir():
            if kind not in ("folder", "txt", "md"):
                raise ImportFailedError(f"{path} is a folder, but the {kind} format reads single files: pass the "
                                        f".{kind} files themselves, or import the folder to read its text files")
            files, skipped = list_folder(path, encoding)
            plan.files += [PlannedFile(p, "txt", True) for p in files]
            plan.skipped += skipped
        elif kind == "folder":
            raise ImportFailedError(f"{path} is a file, not a folder: choose the format auto or {detect_format(path)}")
        else:
            plan.files.append(PlannedFile(path, kind, False))
    return plan


def _hidden(path: Path, name: str) -> bool:
    if name.startswith("."):
        return True
    if sys.platform != "win32":  # (a platform check, so type checkers know the attribute below is Windows-only)
        return False
    try:  # Windows marks hidden files with an attribute instead of a leading dot
        return bool(os.lstat(path).st_file_attributes & stat.FILE_ATTRIBUTE_HIDDEN)
    except (OSError, AttributeError):
        return False


def list_folder(folder: Path, encoding: str = "auto") -> tuple[list[Path], list[tuple[str, str]]]:
    """Text files under `folder` (recursive, sorted) and (path, reason) for everything left out."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []

    def unreadable(err: OSError) -> None:
        skipped.append((str(err.filename), f"folder could not be read ({err.strerror})"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        base = Path(dirpath)
        for name in list(dirnames):
            path = base / name
            reason = "hidden folder" if _hidden(path, name) else (
                "link to a folder (not followed)" if path.is_symlink() else None)
            if reason:
                skipped.append((str(path), reason))
                dirnames.remove(name)
        for name in filenames:
            path = base / name
            suffix = path.suffix.lower()
            if _hidden(path, name):
                skipped.append((str(path), "hidden file"))
            elif suffix in TEXT_SUFFIXES:
                files.append(path)
            elif not suffix:
                reason = looks_like_text(path, encoding)
                if reason:
                    skipped.append((str(path), f"no extension and not text ({reason})"))
                else:
                    files.append(path)
            else:
                skipped.append((str(path), f"not a text file type ({suffix}); folders supply only "
                                           f"{' '.join(TEXT_SUFFIXES)} and extension-less text files"))
    files.sort(key=lambda p: p.relative_to(folder).parts)
    skipped.sort()
    return files, skipped


# ---- readers ----------------------------------------------------------------------------------

def read_plain(source: TextFile) -> Iterator[StreamedDocument]:
    yield StreamedDocument(source.chunks())


def read_jsonl(source: TextFile, field: str) -> Iterator[str | Notice]:
    nulls = 0
    for number, line in enumerate(source.lines(), 1):
        if not line.strip():
            continue
        where = f"{source.path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ImportFailedError(f"{where} is not valid JSON ({e.msg} at column {e.colno}). Each line of a "
                                    "JSON Lines file must hold one JSON object: fix or remove that line.") from None
        except (ValueError, RecursionError) as e:
            raise ImportFailedError(f"{where} could not be read as JSON ({e}): fix or remove that line.") from None
        if not isinstance(record, dict):
            raise ImportFailedError(f"{where} holds {_JSON_TYPES.get(type(record), 'a value')}, not a JSON object "
                                    f'with a "{field}" field: each line must be an object like {{"{field}": "..."}}')
        if field not in record:
            raise ImportFailedError(f'{where} has no field "{field}"; its fields are: {_names(record)}. '
                                    "Choose the field that holds the text (--field NAME).")
        value = record[field]
        if value is None:
            nulls += 1
            continue
        if not isinstance(value, str):
            raise ImportFailedError(f'{where}: field "{field}" holds {_JSON_TYPES.get(type(value), "a value")}, '
                                    "not a string. Choose a field that holds text (--field NAME).")
        if "\\u" in line and _SURROGATE.search(value):
            if not source.replace:
                raise ImportFailedError(f'{where}: field "{field}" contains an unpaired surrogate escape (such as '
                                        r"\ud800), which is not valid Unicode. Fix that line, or turn on 'replace "
                                        "invalid bytes' to import it with U+FFFD in its place.")
            value = _SURROGATE.sub("\ufffd", value)
        yield value
    if nulls:
        yield Notice(f'{source.path}: skipped {nulls} line(s) whose "{field}" is null')


def _names(names) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(repr(n) for n in names[:20]) or "(none)"
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


def read_csv(source: TextFile, field: str) -> Iterator[str]:
    csv.field_size_limit(CSV_FIELD_LIMIT)  # process-wide; the default 128 KiB refuses long documents
    delimiter = "\t" if source.path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(source.lines(), delimiter=delimiter, strict=True)  # an unclosed quote is an error
    row_end = 0  # the last line of the last complete row
    try:
        header = next(reader, None)
        if not header:
            raise ImportFailedError(f"{source.path} has no header row: the first line must name the columns")
        column = _find_column(header, field, source.path)
        row_end = reader.line_num
        for row in reader:
            if row and column < len(row):
                yield row[column]
            row_end = reader.line_num
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise ImportFailedError(f"{source.path}: the quote opened in the row starting on line {row_end + 1} "
                                    "is never closed, so the rest of the file would become one field; close "
                                    "that quote (or double a quote inside a field) and import again") from None
        raise ImportFailedError(f"{source.path} line {reader.line_num} is not valid CSV ({e}): fix that line, "
                                "check that quotes are balanced, and import again") from None


def _find_column(header: list[str], field: str, path: Path) -> int:
    for names in (header, [h.strip() for h in header]):
        if field in names:
            return names.index(field)
    raise ImportFailedError(f'{path} has no column "{field}"; its columns are: {_names(header)}. '
                            "Choose the column that holds the text (--field NAME).")


def import_pyarrow():
    """(pyarrow, pyarrow.parquet), imported only when a Parquet file is read (an optional dependency)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        if e.name in ("pyarrow", "pyarrow.parquet"):
            raise ImportFailedError("reading Parquet files needs the optional pyarrow package: "
                                    f"run `{PARQUET_HINT}` (or convert the file to JSONL or CSV)") from e
        # pyarrow is there but one of its parts is not (a broken install, or a trimmed build)
        raise ImportFailedError(f"pyarrow is installed but could not be loaded ({e}); reinstall it with "
                                f"`{PARQUET_HINT}` (or convert the file to JSONL or CSV)") from e
    return pa, pq


class ParquetSource:
    """A Parquet file whose `field` column holds text; `bytes_read` is estimated from the rows read."""

    encoding = "utf-8"

    def __init__(self, path: Path, field: str):
        read_head(path)  # missing / unreadable -> clear error
        self.path, self.field, self.size, self.bytes_read = path, field, path.stat().st_size, 0
        if self.size == 0:
            raise FileRefusedError(f"{path} is empty: pick a file that contains data", "empty")
        pa, pq = import_pyarrow()
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as e:
            raise ImportFailedError(f"{path} is not a readable Parquet file ({e}); check that the file is complete") from None
        self.columns = tuple(self.file.schema_arrow.names)

    def check_column(self) -> None:
        pa, _ = import_pyarrow()
        if self.field not in self.columns:
            raise ImportFailedError(f'{self.path} has no column "{self.field}"; its columns are: {_names(self.columns)}. '
                                    "Choose the column that holds the text (--field NAME).")
        kind = self.file.schema_arrow.field(self.field).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or getattr(pa.types, "is_string_view", lambda _: False)(kind)):
            raise ImportFailedError(f'{self.path}: column "{self.field}" holds {kind}, not text. '
                                    "Choose a column of strings (--field NAME).")


def read_parquet(source: ParquetSource, batch_rows: int = 4096) -> Iterator[str | Notice]:
    pa, _ = import_pyarrow()
    source.check_column()
    total_rows = max(1, source.file.metadata.num_rows)
    rows = nulls = 0
    try:
        for batch in source.file.iter_batches(batch_size=batch_rows, columns=[source.field]):
            for value in batch.column(0).to_pylist():
                if value is None:
                    nulls += 1
                else:
                    yield value
            rows += batch.num_rows
            source.bytes_read = source.size * rows // total_rows
    except (pa.ArrowException, OSError, UnicodeDecodeError) as e:
        raise ImportFailedError(f"{source.path} could not be read after row {rows} ({e}); "
                                "check that the file is complete") from None
    if nulls:
        yield Notice(f'{source.path}: skipped {nulls} row(s) whose "{source.field}" is null')


def open_source(planned: PlannedFile, field: str, replace_invalid: bool, encoding: str = "auto"):
    """(source with size/bytes_read/encoding, item iterator) for one planned file; Parquet stores
    its text as UTF-8 whatever `encoding` says."""
    if planned.format == "parquet":
        source = ParquetSource(planned.path, field)
        return source, read_parquet(source)
    text_file = TextFile.open(planned.path, replace_invalid, encoding)
    if planned.format == "jsonl":
        return text_file, read_jsonl(text_file, field)
    if planned.format == "csv":
        return text_file, read_csv(text_file, field)
    return text_file, read_plain(text_file)

