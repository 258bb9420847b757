"""Encodings, invalid bytes, binary / empty / missing files, cleaning, and streaming across chunk boundaries."""

from __future__ import annotations

import unicodedata
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import workbench.core.data.text as dataset_text
from workbench.core.base.errors import ImportFailedError
from workbench.core.base.events import run_to_end
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.importer import import_dataset, preview
from workbench.core.data.text import StreamCleaner, clean_text

TEXT = "Grüße, naïve café — 日本語 😀\nsecond line\n"


def run(gen):
    """(returned value, events): the order these tests read."""
    events, value = run_to_end(gen)
    return value, events


def spec(**kw) -> DatasetSpec:
    kw.setdefault("val_fraction", 0.0)
    return DatasetSpec(name="d", **kw)


@pytest.mark.parametrize(("raw", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16-le"),
    (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16-be"),
])
@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_encodings_decode_to_the_same_utf8(tmp_path, monkeypatch, raw, encoding, chunk):
    monkeypatch.setattr(dataset_text, "CHUNK_BYTES", chunk)  # 3 bytes: every multi-byte char is split
    src = tmp_path / "in.txt"
    src.write_bytes(raw)
    result, _ = run(import_dataset([src], spec(), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_bytes() == TEXT.encode("utf-8")
    assert result.encodings == {str(src): encoding}
    assert preview([src], spec()).encoding == encoding


def test_invalid_utf8_names_file_and_offset(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_text, "CHUNK_BYTES", 4)
    src = tmp_path / "bad-utf8.txt"
    src.write_bytes("héllo\nwörld ".encode() + b"\xff rest\n")
    offset = len("héllo\nwörld ".encode())
    with pytest.raises(ImportFailedError, match=rf"bad-utf8\.txt: byte 0xff at byte offset {offset} \(line 2\)"):
        run(import_dataset([src], spec(), tmp_path / "out"))
    assert list((tmp_path / "out").iterdir()) == []


def test_truncated_utf8_sequence_at_end(tmp_path):
    src = tmp_path / "t.txt"
    src.write_bytes(b"abc\xe2\x82")
    with pytest.raises(ImportFailedError, match="offset 3"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_invalid_utf16_names_offset(tmp_path):
    src = tmp_path / "u16.txt"
    src.write_bytes(b"\xff\xfe" + "ab".encode("utf-16-le") + b"\x00\xd8" + "c".encode("utf-16-le"))
    with pytest.raises(ImportFailedError, match=r"u16\.txt: bytes 00 d8 at byte offset 6"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_replace_invalid_gives_replacement_character(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"hello \xff\xfe world\n" * 3)
    run(import_dataset([src], spec(replace_invalid=True), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_text(encoding="utf-8") == "hello \ufffd\ufffd world\n" * 3


@pytest.mark.parametrize(("raw", "reason"), [
    (bytes(range(256)) * 64, "NUL bytes"),
    (b"\x01\x02\x03\x04\x05\x06abc" * 100, "control characters"),
    ("text".encode("utf-16-le") * 50, "UTF-16 without a byte-order mark"),
    (b"\xff\xfe\x00\x00" + "x".encode("utf-32-le"), "UTF-32"),
])
def test_binary_files_are_refused(tmp_path, raw, reason):
    src = tmp_path / "binary.bin"
    src.write_bytes(raw)
    with pytest.raises(ImportFailedError, match=reason):
        run(import_dataset([src], spec(), tmp_path / "out"))
    with pytest.raises(ImportFailedError, match=reason):
        preview([src], spec())


@pytest.mark.parametrize("raw", [b"", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_files_are_refused(tmp_path, raw):
    src = tmp_path / "empty.txt"
    src.write_bytes(raw)
    with pytest.raises(ImportFailedError, match="is empty"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_whitespace_only_file_is_refused_when_stripping(tmp_path):
    src = tmp_path / "ws.txt"
    src.write_text(" \n\t\n ", encoding="utf-8")
    with pytest.raises(ImportFailedError, match="contains no text to import"):
        run(import_dataset([src], spec(strip=True), tmp_path / "out"))
    # Issue 10 (defect 7): without stripping it used to become one document of whitespace.
    with pytest.raises(ImportFailedError, match="contains no text to import: it holds only whitespace"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_missing_file(tmp_path):
    with pytest.raises(ImportFailedError, match="file not found: .*missing.txt"):
        run(import_dataset([tmp_path / "missing.txt"], spec(), tmp_path / "out"))
    with pytest.raises(ImportFailedError, match="file not found"):
        preview([tmp_path / "missing.txt"], spec())
    with pytest.raises(ImportFailedError, match="nothing to import"):
        run(import_dataset([], spec(), tmp_path / "out"))


def test_cleaning_options(tmp_path):
    src = tmp_path / "c.txt"
    decomposed = "cafe\u0301"
    src.write_bytes(f"  a\r\nb\rc {decomposed}  \n\n".encode())
    run(import_dataset([src], spec(), tmp_path / "o1"))
    assert (tmp_path / "o1" / "train.txt").read_text(encoding="utf-8") == "  a\nb\nc café  \n\n"
    run(import_dataset([src], spec(normalize_newlines=False, nfc=False), tmp_path / "o2"))
    assert (tmp_path / "o2" / "train.txt").read_bytes() == src.read_bytes()
    run(import_dataset([src], spec(strip=True), tmp_path / "o3"))
    assert (tmp_path / "o3" / "train.txt").read_text(encoding="utf-8") == "a\nb\nc café"


def test_crlf_split_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_text, "CHUNK_BYTES", 2)
    src = tmp_path / "crlf.txt"
    src.write_bytes(b"a\r\nbb\r\nc\r\r\nd\r")
    run(import_dataset([src], spec(), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_bytes() == b"a\nbb\nc\n\nd\n"


_pieces = st.text(alphabet=st.sampled_from(list("ab \n\r\t\u0301\u0327\u1100\u1161\u11a8\uac00e\u0bc6\u0bbe\u00e9")),
                  max_size=40)


@settings(max_examples=200, deadline=None)
@example(text="\u1100\u1161\u11a8", cuts=[], options=(False, True, False))  # L + V + T jamo: one syllable
@given(text=_pieces, cuts=st.lists(st.integers(0, 40), max_size=6),
       options=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_stream_cleaner_equals_whole_document_cleaning(text, cuts, options):
    newlines, nfc, strip = options
    cleaning = DatasetSpec(name="d", normalize_newlines=newlines, nfc=nfc, strip=strip)
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    cleaner = StreamCleaner(cleaning)
    with mock.patch.object(dataset_text, "_NFC_PIECE", 3):  # also normalise in small stretches
        out = "".join(cleaner.feed(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)) + cleaner.finish()
        assert clean_text(text, cleaning) == out
    assert out == clean_text(text, cleaning)
    if nfc:
        assert unicodedata.is_normalized("NFC", out)
