"""Which encoding a file is in, and whether it is text at all, judged from its first bytes.

"auto" trusts a byte-order mark (UTF-8, UTF-16 LE or BE) and otherwise takes UTF-8. It does not
guess among the 8-bit legacy encodings: any byte sequence is valid cp1252 or Latin-1, so a guess
would silently turn a Cyrillic or Greek file into accented Latin letters. The user names the
encoding instead (`DatasetSpec.encoding`), and the errors here say which one to try.

A file is binary, not text, when it starts with a known file signature (PNG, ZIP, PDF...), holds
NUL characters once decoded, or is full of control characters. NUL bytes alone would also match
UTF-16 text saved without a byte-order mark; that case is told apart by decoding the start as
UTF-16 and finding clean text there.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import is_text_codec

SNIFF_BYTES = 8192
# (byte-order mark, codec used after skipping it, name reported to the user)
BOMS = (
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_BOM_OF_CODEC = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
                 "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}
# Only signatures long or odd enough never to start a real text file.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (Word, Excel and OpenDocument files are ZIP archives too)"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b\x08", "gzip-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"PAR1", "a Parquet file (choose the Parquet format to read its text column)"),
)
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")
LEGACY_GUESS = "cp1252"  # what a Western-European Windows machine writes; the usual non-UTF-8 file
# What the encodings this module suggests are called (the import dialog lists them by these names).
ENCODING_NAMES = {"cp1252": "Windows-1252", "latin-1": "Latin-1 / ISO-8859-1", "utf-16-le": "UTF-16 LE",
                  "utf-16-be": "UTF-16 BE", "utf-32": "UTF-32"}


@dataclass(frozen=True)
class Sniffed:
    codec: str  # for Python's decoder
    name: str  # reported to the user
    bom_len: int  # bytes to skip before decoding


@dataclass(frozen=True)
class NotText:
    reason: str  # "it is a PNG image, not text"
    suggested_encoding: str | None = None  # an encoding under which the file would read as text


def sniff_encoding(head: bytes, encoding: str = "auto") -> Sniffed:
    """How to decode a file starting with `head`: from its byte-order mark, or as `encoding` says."""
    if encoding != "auto":
        return _chosen(head, encoding)
    if head.startswith(UTF32_BOMS):
        return Sniffed("utf-32", "utf-32", 4)
    for bom, codec, name in BOMS:
        if head.startswith(bom):
            return Sniffed(codec, name, len(bom))
    return Sniffed("utf-8", "utf-8", 0)


def _chosen(head: bytes, encoding: str) -> Sniffed:
    if not is_text_codec(encoding):
        raise InvalidSpecError(f"unknown text encoding {encoding!r}: choose utf-8, utf-16, cp1252, latin-1 or another "
                               "Python codec name")
    codec = codecs.lookup(encoding).name  # "latin-1" -> "iso8859-1", "UTF8" -> "utf-8"
    if codec in ("utf-16", "utf-32"):  # the byte order comes from the BOM, else little-endian as Windows writes
        for bom, order in ((_BOM_OF_CODEC[f"{codec}-le"], "le"), (_BOM_OF_CODEC[f"{codec}-be"], "be")):
            if head.startswith(bom):
                return Sniffed(f"{codec}-{order}", f"{codec}-{order}", len(bom))
        return Sniffed(f"{codec}-le", f"{codec}-le", 0)
    own_bom = _BOM_OF_CODEC.get(codec, b"")
    bom_len = len(own_bom) if own_bom and head.startswith(own_bom) else 0  # a BOM of the chosen encoding is not text
    return Sniffed(codec, encoding.lower(), bom_len)


def unit_bytes(codec: str) -> int:
    """Bytes per code unit: decoding a head cut inside a unit would report a false error."""
    return 4 if "32" in codec else 2 if "16" in codec else 1


def not_text(head: bytes, sniffed: Sniffed) -> NotText | None:
    """Why a file starting with `head` is not text in `sniffed`'s encoding, or None when it reads as text."""
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return NotText(f"it is {what}, not text")
    unit = unit_bytes(sniffed.codec)
    body = head[sniffed.bom_len:]
    body = body[: len(body) // unit * unit]
    text = body.decode(sniffed.codec, errors="replace")
    if "\x00" in text:
        guess = _utf16_without_bom(body) if sniffed.bom_len == 0 and unit == 1 else None
        if guess:
            return NotText("it looks like UTF-16 without a byte-order mark", guess)
        return NotText("it contains NUL bytes, so it is binary data, not text")
    if not text:
        return None
    controls = sum(1 for ch in text if ch < " " and ch not in _TEXT_CONTROLS)
    if controls > len(text) // 10:
        return NotText("it is full of control characters, so it is binary data, not text")
    # UTF-16 text has almost no unpaired surrogates; random bytes after an FF FE have one in 32 units.
    # (Invalid UTF-8 is left to the decoder: it is usually legacy-encoded text, and its error says so.)
    bad = text.count("\ufffd")
    if unit > 1 and bad >= 4 and bad > len(text) // 50:  # one bad unit is the decoder's to report, with its offset
        return NotText(f"it is not valid {sniffed.name.upper()}, so it looks like binary data, not text")
    return None


def _utf16_without_bom(body: bytes) -> str | None:
    """"utf-16-le" / "utf-16-be" when `body` reads as clean UTF-16 text, else None."""
    body = body[: len(body) // 2 * 2]
    units = len(body) // 2
    if units < 2:
        return None
    zeros_even, zeros_odd = body[0::2].count(0), body[1::2].count(0)
    codec = "utf-16-le" if zeros_odd > zeros_even else "utf-16-be"
    if max(zeros_even, zeros_odd) < units // 4:  # Latin-script text: most high bytes are zero
        return None
    text = body.decode(codec, errors="replace")
    if "\x00" in text or "\ufffd" in text:
        return None
    controls = sum(1 for ch in text if ch < " " and ch not in _TEXT_CONTROLS)
    return codec if controls <= len(text) // 100 else None


def legacy_guess(data: bytes) -> str:
    """The 8-bit encoding to suggest for text that is not valid UTF-8: cp1252 where it decodes
    (it is a superset of Latin-1's printable characters), else Latin-1, which decodes anything."""
    try:
        data.decode(LEGACY_GUESS)
    except UnicodeDecodeError:
        return "latin-1"
    return LEGACY_GUESS
