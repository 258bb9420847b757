"""A quick look at the start of the sources, for the import dialog.

Unlike the import, a field that is missing or holds no text does not raise here: the dialog needs
the list of fields to let the user choose another, so such problems become `notes`. Files that
cannot be read at all (missing, binary, undecodable start, broken JSON) still raise
`ImportFailedError`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.readers import (
    CSV_FIELD_LIMIT,
    DEFAULT_FIELD,
    ParquetSource,
    PlannedFile,
    plan_sources,
)
from workbench.core.data.text import FileRefusedError, TextFile, clean_text

PREVIEW_CHARS = 500
PREVIEW_BYTES = 64 << 10


@dataclass(frozen=True)
class Preview:
    format: str
    encoding: str  # of the first file read
    fields: tuple[str, ...]  # JSONL keys / CSV columns / Parquet columns of the first such file, else ()
    records: tuple[str, ...]  # first documents, cleaned, each cut to PREVIEW_CHARS characters
    total_bytes: int
    notes: tuple[str, ...] = ()  # problems the dialog should show (missing field, skipped files)


@dataclass
class _Found:
    encoding: str = ""
    fields: tuple[str, ...] = ()
    values: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _plain(planned: PlannedFile, spec: DatasetSpec, found: _Found) -> None:
    text_file = TextFile.open(planned.path, spec.replace_invalid, spec.encoding)
    found.encoding = found.encoding or text_file.encoding
    with closing(text_file.chunks(PREVIEW_BYTES)) as chunks:
        found.values.append(next(chunks, ""))


def _jsonl(planned: PlannedFile, spec: DatasetSpec, found: _Found, key: str, limit: int) -> None:
    text_file = TextFile.open(planned.path, spec.replace_invalid, spec.encoding)
    found.encoding = found.encoding or text_file.encoding
    keys: dict[str, None] = {}
    with closing(text_file.lines()) as lines:
        for number, line in _first_lines(lines, limit):
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as e:
                raise ImportFailedError(f"{planned.path} line {number} is not valid JSON ({e}): "
                                        "each line must hold one JSON object") from None
            if not isinstance(record, dict):
                found.notes.append(f"line {number} is not a JSON object")
                continue
            keys.update(dict.fromkeys(map(str, record)))
            value = record.get(key)
            if isinstance(value, str):
                found.values.append(value)
            elif key not in record:
                found.notes.append(f'line {number} has no field "{key}"')
            elif value is not None:
                found.notes.append(f'line {number}: "{key}" is not a string')
    found.fields = found.fields or tuple(keys)


def _first_lines(lines: Iterator[str], limit: int) -> Iterator[tuple[int, str]]:
    given = 0
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, line
            given += 1
            if given >= limit:
                return


def _csv(planned: PlannedFile, spec: DatasetSpec, found: _Found, key: str, limit: int) -> None:
    text_file = TextFile.open(planned.path, spec.replace_invalid, spec.encoding)
    found.encoding = found.encoding or text_file.encoding
    csv.field_size_limit(CSV_FIELD_LIMIT)
    delimiter = "\t" if planned.path.suffix.lower() == ".tsv" else ","
    with closing(text_file.lines()) as lines:
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            header = next(reader, [])
            found.fields = found.fields or tuple(header)
            names = [h.strip() for h in header]
            if key not in names:
                found.notes.append(f'{planned.path} has no column "{key}"')
                return
            column = names.index(key)
            for row in reader:
                if len(found.values) >= limit:
                    break
                if column < len(row):
                    found.values.append(row[column])
        except csv.Error as e:
            raise ImportFailedError(f"{planned.path} line {reader.line_num} is not valid CSV ({e})") from None


def _parquet(planned: PlannedFile, found: _Found, key: str, limit: int) -> None:
    source = ParquetSource(planned.path, key)
    found.encoding = found.encoding or source.encoding
    found.fields = found.fields or source.columns
    try:
        source.check_column()
    except ImportFailedError as e:
        found.notes.append(str(e))
        return
    for batch in source.file.iter_batches(batch_size=limit, columns=[key]):
        found.values += [v for v in batch.column(0).to_pylist() if v is not None]
        return


def preview(sources: Sequence[Path], spec: DatasetSpec, max_records: int = 20) -> Preview:
    """The first documents of `sources` as they would be imported; reads only the start of the files."""
    plan = plan_sources([Path(s) for s in sources], spec.format, spec.encoding)
    key = spec.field or DEFAULT_FIELD
    found = _Found(values=[], notes=[f"skipped {path}: {reason}" for path, reason in plan.skipped[:20]])
    records: list[str] = []
    for planned in plan.files:
        if len(records) >= max_records:
            break
        found.values = []
        left = max_records - len(records)
        try:
            if planned.format == "jsonl":
                _jsonl(planned, spec, found, key, left)
            elif planned.format == "csv":
                _csv(planned, spec, found, key, left)
            elif planned.format == "parquet":
                _parquet(planned, found, key, left)
            else:
                _plain(planned, spec, found)
        except FileRefusedError as e:
            if not planned.in_folder:
                raise
            found.notes.append(f"skipped {planned.path}: {e.reason}")
        cleaned = (clean_text(v, spec) for v in found.values)
        records += [text[:PREVIEW_CHARS] for text in cleaned if text][:left]
    return Preview(format=plan.format_name(spec.format), encoding=found.encoding,
                   fields=found.fields, records=tuple(records), total_bytes=plan.total_bytes,
                   notes=tuple(found.notes))
