"""Issue 10, defect 7: binary files are called binary (not "UTF-16 without BOM"), whitespace-only
files are refused, and legacy encodings (cp1252, Latin-1, UTF-16 without BOM) can be named."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.events import run_to_end
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.importer import import_dataset, preview
from workbench.core.data.text import FileRefusedError, UndecodableError

WESTERN = "Café déjà vu — “quoted” naïve façade, 5 €\nSecond line: Ärger über Öl.\n"


def run(gen):
    return run_to_end(gen)[1]


def spec(**kw) -> DatasetSpec:
    kw.setdefault("val_fraction", 0.0)
    return DatasetSpec(name="d", **kw)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = zlib.compress(b"".join(b"\x00" + bytes(64 * 3) for _ in range(64)))  # black 64x64
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def zip_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello " * 1000)
    return path.read_bytes()


ELF_HEAD = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00\x3e\x00\x01\x00\x00\x00" + bytes(4000)
BINARIES = {
    "zeros": bytes(4000),  # a sparse file, a disk image
    "sparse": bytes([0, 1, 0, 2, 0, 3]) * 1000,  # 16-bit samples: a zero in every other byte
    "elf": ELF_HEAD,
    "sqlite": b"SQLite format 3\x00" + b"\x10\x00\x02\x02" + bytes(4000),
    "unknown-with-zero-words": (b"\x00\x00\x01\x00\x08\x00" + bytes(10)) * 300,
}


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_binary_files_are_not_called_utf16(tmp_path, name):
    src = tmp_path / f"{name}.dat"
    src.write_bytes(BINARIES[name])
    for attempt in (lambda: run(import_dataset([src], spec(), tmp_path / "out")), lambda: preview([src], spec())):
        with pytest.raises(FileRefusedError) as caught:
            attempt()
        message = str(caught.value)
        assert "not text" in message and "UTF-16" not in message, message
        assert caught.value.suggested_encoding is None


@pytest.mark.parametrize(("kind", "what"), [("png", "a PNG image"), ("zip", "a ZIP archive")])
def test_known_file_types_are_named(tmp_path, kind, what):
    src = tmp_path / f"file.{kind}.txt"
    src.write_bytes(png_bytes() if kind == "png" else zip_bytes(tmp_path))
    with pytest.raises(FileRefusedError, match=f"it is {what}.*not text"):
        run(import_dataset([src], spec(), tmp_path / "out"))
    with pytest.raises(FileRefusedError, match=f"it is {what}"):
        run(import_dataset([src], spec(encoding="latin-1"), tmp_path / "out"))  # latin-1 decodes any byte


def test_utf16_without_bom_is_recognised_and_can_be_chosen(tmp_path):
    src = tmp_path / "u16.txt"
    src.write_bytes(WESTERN.encode("utf-16-le") * 20)
    with pytest.raises(FileRefusedError, match="UTF-16 without a byte-order mark") as caught:
        run(import_dataset([src], spec(), tmp_path / "out"))
    assert caught.value.suggested_encoding == "utf-16-le" and "--encoding utf-16-le" in str(caught.value)
    result = run(import_dataset([src], spec(encoding="utf-16-le"), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_text(encoding="utf-8") == WESTERN * 20
    assert result.encodings == {str(src): "utf-16-le"}


@pytest.mark.parametrize("raw", [
    b" ", b"\n\n\n", b" \t\r\n \r\n\t", "\u00a0\u2003\n".encode(), b"\xef\xbb\xbf  \n",
    b"\xff\xfe" + " \n\t".encode("utf-16-le"), b" \n" * 20_000,  # beyond the first 8 KB read
])
def test_whitespace_only_files_are_refused(tmp_path, raw):
    src = tmp_path / "blank.txt"
    src.write_bytes(raw)
    for strip in (False, True):
        with pytest.raises(FileRefusedError, match="only whitespace"):
            run(import_dataset([src], spec(strip=strip), tmp_path / "out"))
    with pytest.raises(FileRefusedError, match="only whitespace"):
        preview([src], spec())
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_text_after_a_long_blank_start_is_kept_and_blank_folder_files_are_skipped(tmp_path):
    src = tmp_path / "late.txt"
    src.write_text(" \n" * 20_000 + "finally some text\n", encoding="utf-8")
    run(import_dataset([src], spec(strip=True), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_text(encoding="utf-8") == "finally some text"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("real text", encoding="utf-8")
    (folder / "b.txt").write_text("\n \n", encoding="utf-8")
    result = run(import_dataset([folder], spec(), tmp_path / "out2"))
    assert result.documents == 1 and [(Path(p).name, r) for p, r in result.skipped] == [
        ("b.txt", "only whitespace: no text left to import")]


@pytest.mark.parametrize("encoding", ["cp1252", "windows-1252", "CP1252"])
def test_a_cp1252_file_reads_exactly_with_its_encoding(tmp_path, encoding):
    src = tmp_path / "western.txt"
    src.write_bytes(WESTERN.encode("cp1252") * 5)
    with pytest.raises(UndecodableError, match=r"is not valid UTF-8 .*--encoding cp1252") as caught:
        run(import_dataset([src], spec(), tmp_path / "out"))
    assert caught.value.suggested_encoding == "cp1252"
    assert "western.txt: byte 0xe9 at byte offset 3 (line 1) is not valid UTF-8 (invalid continuation byte). " \
           "If it was saved in a legacy encoding, import it with --encoding cp1252 (Windows-1252)" in str(caught.value)
    result = run(import_dataset([src], spec(encoding=encoding), tmp_path / "out"))
    text = (tmp_path / "out" / "train.txt").read_text(encoding="utf-8")
    assert text == WESTERN * 5 and "\ufffd" not in text
    assert result.encodings == {str(src): encoding.lower()}
    shown = preview([src], spec(encoding=encoding))
    assert shown.records[0].startswith("Café déjà vu — “quoted”") and shown.encoding == encoding.lower()


def test_latin1_is_suggested_where_cp1252_cannot_decode(tmp_path):
    src = tmp_path / "latin.txt"
    src.write_bytes("café ".encode("latin-1") + b"\x81\x8d" + b" end\n")  # undefined in cp1252
    with pytest.raises(UndecodableError, match="--encoding latin-1"):
        run(import_dataset([src], spec(), tmp_path / "out"))
    with pytest.raises(UndecodableError, match=r"byte 0x81 at byte offset 5 \(line 1\) is not valid CP1252") as e:
        run(import_dataset([src], spec(encoding="cp1252"), tmp_path / "out"))
    assert e.value.suggested_encoding is None
    run(import_dataset([src], spec(encoding="latin-1"), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_text(encoding="utf-8") == "café \x81\x8d end\n"


LATIN9 = "Ça coûte 5 € (œuvre)\n"


@pytest.mark.parametrize(("raw", "encoding", "expected"), [
    (b"\xef\xbb\xbf" + WESTERN.encode(), "utf-8", WESTERN),  # a BOM of the chosen encoding is skipped
    (b"\xfe\xff" + WESTERN.encode("utf-16-be"), "utf-16", WESTERN),  # generic UTF-16: the BOM tells the order
    (WESTERN.encode("utf-16-le"), "utf-16", WESTERN),  # no BOM: little-endian
    (WESTERN.encode("utf-32-le"), "utf-32", WESTERN),
    (LATIN9.encode("iso8859-15"), "latin9", LATIN9),
])
def test_chosen_encodings(tmp_path, raw, encoding, expected):
    src = tmp_path / "in.txt"
    src.write_bytes(raw)
    run(import_dataset([src], spec(encoding=encoding), tmp_path / "out"))
    assert (tmp_path / "out" / "train.txt").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("name", ["klingon", "rot13", "base64", ""])
def test_unknown_encodings_are_refused(tmp_path, name):
    src = tmp_path / "in.txt"
    src.write_text("text", encoding="utf-8")
    with pytest.raises(InvalidSpecError, match="unknown text encoding"):
        spec(encoding=name).validate()
    with pytest.raises(InvalidSpecError, match="unknown text encoding"):
        run(import_dataset([src], spec(encoding=name), tmp_path / "out"))
    with pytest.raises(WorkbenchError, match="unknown text encoding"):
        preview([src], spec(encoding=name))
