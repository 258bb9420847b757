"""Fuzzing the JSONL and CSV readers: whatever the bytes, the import either succeeds with valid UTF-8
output or raises ImportFailedError and leaves nothing behind. Nothing else may escape."""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.importer import import_dataset, preview

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

specs = st.builds(DatasetSpec, name=st.just("fuzz"), field=st.sampled_from([None, "text", "body"]),
                  val_fraction=st.sampled_from([0.0, 0.1, 0.5]), seed=st.integers(0, 3),
                  replace_invalid=st.booleans(), normalize_newlines=st.booleans(), nfc=st.booleans(),
                  strip=st.booleans())
encodings = st.sampled_from([("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
                             ("utf-16-be", b"\xfe\xff")])
values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                      max_leaves=5)
records = st.fixed_dictionaries({"text": st.text(max_size=30)}, optional={"body": values, "id": values})
noise = st.one_of(
    st.dictionaries(st.sampled_from(["text", "body", "id"]), values, max_size=3).map(json.dumps),
    st.text(max_size=30),
    st.sampled_from(['{"text": "a\\ud800"}', '{"text": 1e999}', "[" * 50, '{"text": "x"', "null", '"text"', ""]),
)
# mostly well-formed records, so that cleaning, splitting and statistics are fuzzed as well as the errors
json_lines = st.lists(records.map(json.dumps), min_size=1, max_size=8) | st.lists(
    st.one_of(records.map(json.dumps), noise), min_size=1, max_size=8)
csv_cells = st.text(alphabet=st.sampled_from(list('ab,"\n\t é') * 4 + ["\r"]), max_size=12)
csv_rows = st.lists(st.lists(csv_cells, min_size=1, max_size=3), min_size=1, max_size=6)


def import_bytes(raw: bytes, suffix: str, spec: DatasetSpec) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / f"in{suffix}", Path(tmp) / "out"
        src.write_bytes(raw)
        gen = import_dataset([src], spec, out)
        try:
            while True:
                next(gen)
        except StopIteration as stop:
            result = stop.value
        except ImportFailedError:
            assert not out.exists() or list(out.iterdir()) == []
            with contextlib.suppress(ImportFailedError):  # preview may succeed: it reads only the start
                preview([src], spec)
            return
        train, val = (out / "train.txt").read_bytes(), (out / "val.txt").read_bytes()
        assert len(train.decode("utf-8")) + len(val.decode("utf-8")) == result.train_chars + result.val_chars
        assert result.sha256 == hashlib.sha256(train + val).hexdigest()
        assert result.documents == result.train_documents + result.val_documents or result.stats["split"] == "tail"
        preview([src], spec)


@FUZZ
@given(raw=st.binary(max_size=300), spec=specs)
def test_jsonl_reader_on_arbitrary_bytes(raw, spec):
    import_bytes(raw, ".jsonl", spec)


@FUZZ
@given(lines=json_lines, encoding=encodings, newline=st.sampled_from(["\n", "\r\n"]), spec=specs)
def test_jsonl_reader_on_json_like_text(lines, encoding, newline, spec):
    codec, bom = encoding
    spec = replace(spec, field=None)
    raw = bom + newline.join(lines).encode(codec, errors="surrogatepass")
    import_bytes(raw, ".jsonl", spec)


@FUZZ
@given(raw=st.binary(max_size=300), spec=specs)
def test_csv_reader_on_arbitrary_bytes(raw, spec):
    import_bytes(raw, ".csv", spec)


@FUZZ
@given(header=st.lists(st.sampled_from(["text", "body", "id", ' "text"', ""]), min_size=1, max_size=3)
       .map(lambda names: names if len(names) > 2 else ["text", *names]),
       rows=csv_rows, encoding=encodings, quote=st.booleans(), spec=specs, column=st.integers(0, 2))
def test_csv_reader_on_csv_like_text(header, rows, encoding, quote, spec, column):
    codec, bom = encoding
    spec = replace(spec, field=header[column % len(header)].strip() or None)

    def cell(c: str) -> str:
        return '"' + c.replace('"', '""') + '"' if quote else c

    text = "\r\n".join(",".join(cell(c) for c in row) for row in [header, *rows])
    import_bytes(bom + text.encode(codec, errors="surrogatepass"), ".csv", spec)
