"""Opening text files for import: encoding, binary/empty refusal, streamed decoding, cleaning.

A file is read in the encoding the user chose, or with "auto" as UTF-8 unless it starts with a
byte-order mark (see `sniff`). Files are decoded in chunks with an incremental decoder, so
multi-byte sequences split across chunk boundaries are handled and memory stays flat however
large the file is. `StreamCleaner` applies the cleaning options to a document that arrives in
pieces and gives exactly what `clean_text` gives on the whole document (a trailing "\\r" and the
characters that NFC might still combine are held back).

Errors that another encoding may fix carry `suggested_encoding`; their message advises it in the
command line's words (`--encoding cp1252`), which the window says in its own.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Generator
from pathlib import Path

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.sniff import (
    BOMS,
    ENCODING_NAMES,
    SNIFF_BYTES,
    Sniffed,
    legacy_guess,
    not_text,
    sniff_encoding,
    unit_bytes,
)

CHUNK_BYTES = 1 << 20
_NFC_LOOKBACK = 64  # characters searched backwards for a safe NFC cut
_NFC_PIECE = 1 << 16  # characters checked (and normalised if needed) at a time
_NFC_HOLD_LIMIT = 1 << 22  # pathological input (no safe cut for 4M chars): normalise what we have
WHITESPACE_REASON = "only whitespace: no text left to import"


def encoding_advice(encoding: str) -> str:
    """"import it with --encoding cp1252 (Windows-1252)": the window's wording (`ui.wording`) turns it
    into its own Encoding choice, so keep the form."""
    return f"import it with --encoding {encoding} ({ENCODING_NAMES.get(encoding, encoding)})"


class FileRefusedError(ImportFailedError):
    """The file is not importable text at all (missing, empty, binary); `reason` is the short why,
    `suggested_encoding` an encoding under which it would read as text, if there is one."""

    def __init__(self, message: str, reason: str, suggested_encoding: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.suggested_encoding = suggested_encoding


class UndecodableError(ImportFailedError):
    """Bytes that are not valid in the file's encoding; `suggested_encoding` is an encoding to try
    (None when there is no good guess)."""

    def __init__(self, problem: str, suggested_encoding: str | None):
        advice = "Save it as UTF-8"
        if suggested_encoding:
            advice = (f"If it was saved in a legacy encoding, {encoding_advice(suggested_encoding)} or whichever "
                      "encoding it was saved in (latin-1, cp1251, shift_jis...). Otherwise save it as UTF-8")
        super().__init__(f"{problem} {advice}, or add --replace-invalid to import it with U+FFFD in place of "
                         "the bad bytes.")
        self.suggested_encoding = suggested_encoding


def _refuse_not_text(path: Path, head: bytes, sniffed: Sniffed) -> None:
    found = not_text(head, sniffed)
    if found is None:
        return
    if found.suggested_encoding:
        raise FileRefusedError(f"{path} cannot be imported as text: {found.reason}; "
                               f"{encoding_advice(found.suggested_encoding)}, or save it as UTF-8",
                               found.reason, found.suggested_encoding)
    raise FileRefusedError(f"{path} cannot be imported as text: {found.reason}. Pick a text file (a PDF or Word "
                           "document must be exported as plain text first).", found.reason)


def _only_whitespace(path: Path, head: bytes, sniffed: Sniffed, size: int) -> bool:
    """Whether the whole file decodes to whitespace; reads past the head only while that is all it finds."""
    unit = unit_bytes(sniffed.codec)
    body = head[sniffed.bom_len:]
    if not body[: len(body) // unit * unit].decode(sniffed.codec, errors="replace").isspace():
        return False
    if size <= len(head):
        return True
    decoder = codecs.getincrementaldecoder(sniffed.codec)(errors="replace")
    with path.open("rb") as f:
        f.seek(sniffed.bom_len)
        while data := f.read(CHUNK_BYTES):
            text = decoder.decode(data)
            if text and not text.isspace():
                return False
    return not decoder.decode(b"", final=True).strip()


class TextFile:
    """A text file checked for import; `chunks()` decodes it. `bytes_read` follows the reading."""

    def __init__(self, path: Path, sniffed: Sniffed, size: int, replace: bool):
        self.path, self.codec, self.encoding, self.bom_len = path, sniffed.codec, sniffed.name, sniffed.bom_len
        self.size, self.replace = size, replace
        self.bytes_read = 0

    @classmethod
    def open(cls, path: Path, replace_invalid: bool = False, encoding: str = "auto") -> TextFile:
        """Check that `path` is a readable, non-empty text file; raises FileRefusedError if not."""
        path = Path(path)
        head = read_head(path)
        size = path.stat().st_size
        sniffed = sniff_encoding(head, encoding)
        if sniffed.codec == "utf-32" and encoding == "auto":
            raise FileRefusedError(f"{path} is UTF-32, which is not read automatically: "
                                   f"{encoding_advice('utf-32')}, or save it as UTF-8", "UTF-32 (not read automatically)", "utf-32")
        if size <= sniffed.bom_len:
            raise FileRefusedError(f"{path} is empty: pick a file that contains text", "empty")
        _refuse_not_text(path, head, sniffed)
        if _only_whitespace(path, head, sniffed, size):
            raise FileRefusedError(f"{path} contains no text to import: it holds only whitespace (spaces, tabs, "
                                   "line breaks). Pick a file that contains text.", WHITESPACE_REASON)
        return cls(path, sniffed, size, replace_invalid)

    def chunks(self, chunk_bytes: int | None = None) -> Generator[str, None, None]:
        """Decoded text in pieces of about `chunk_bytes` (default CHUNK_BYTES) bytes, without the BOM."""
        chunk_bytes = chunk_bytes or CHUNK_BYTES
        decoder = codecs.getincrementaldecoder(self.codec)(errors="replace" if self.replace else "strict")
        newlines = 0  # only for the line number in an error message
        try:
            with self.path.open("rb") as f:
                f.seek(self.bom_len)
                self.bytes_read = self.bom_len
                while True:
                    data = f.read(chunk_bytes)
                    pending = len(decoder.getstate()[0])
                    try:
                        text = decoder.decode(data, final=not data)
                    except UnicodeDecodeError as e:
                        raise self._decode_error(e, self.bytes_read - pending, newlines) from None
                    self.bytes_read += len(data)
                    if text:
                        newlines += text.count("\n")
                        yield text
                    if not data:
                        return
        except OSError as e:
            raise ImportFailedError(f"could not read {self.path}: {e.strerror or e}; check the file and try again") from e

    def lines(self) -> Generator[str, None, None]:
        """Lines split on "\\n" only, each with its "\\n" (the last one may lack it)."""
        partial: list[str] = []
        for text in self.chunks():
            if "\n" not in text:
                partial.append(text)
                continue
            parts = text.split("\n")
            parts[0] = "".join(partial) + parts[0]
            last = parts.pop()
            partial = [last] if last else []
            for part in parts:
                yield part + "\n"
        if partial:
            yield "".join(partial)

    def _decode_error(self, e: UnicodeDecodeError, base: int, newlines: int) -> UndecodableError:
        offset = base + e.start
        line = newlines + e.object[: e.start].decode(self.codec, errors="replace").count("\n") + 1
        bad = e.object[e.start:e.end]
        what = ("the data" if not bad else f"byte 0x{bad[0]:02x}" if unit_bytes(self.codec) == 1
                else f"bytes {bad.hex(' ')}")
        label = "UTF-8" if self.codec == "utf-8" else self.encoding.upper()
        # Not valid UTF-8 is most often a file saved by an older Windows or Mac program.
        guess = legacy_guess(bytes(e.object)) if self.codec == "utf-8" else None
        return UndecodableError(f"{self.path}: {what} at byte offset {offset} (line {line}) is not valid "
                                f"{label} ({e.reason}).", guess)


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of a file, with the missing/unreadable cases turned into clear errors."""
    try:
        with Path(path).open("rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise FileRefusedError(f"file not found: {path}; check the path and try again", "not found") from None
    except IsADirectoryError:
        raise FileRefusedError(f"{path} is a folder: import it with the folder format", "folder") from None
    except PermissionError:
        raise FileRefusedError(f"cannot read {path}: permission denied; check its permissions",
                               "permission denied") from None
    except OSError as e:
        raise FileRefusedError(f"cannot read {path}: {e.strerror or e}", "unreadable") from None


def looks_like_text(path: Path, encoding: str = "auto") -> str | None:
    """For files without an extension: None if the start is text, else the reason it is not."""
    try:
        TextFile.open(path, encoding=encoding)
    except FileRefusedError as e:
        return e.reason
    head = read_head(path)
    if encoding == "auto" and not head.startswith(tuple(bom for bom, _, _ in BOMS)):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return "not UTF-8 text"
    return None


def nfc(text: str) -> str:
    """NFC, normalising only the ~64K-character stretches that need it (a large text with a few
    decomposed characters is otherwise normalised whole). Cutting before "\n" is safe: ASCII never
    composes with what precedes it."""
    if text.isascii():
        return text
    parts, start = [], 0
    while start < len(text):
        end = text.find("\n", start + _NFC_PIECE)
        end = len(text) if end < 0 else end
        part = text[start:end]
        parts.append(unicodedata.normalize("NFC", part))  # returns `part` itself after a quick check if NFC
        start = end
    return "".join(parts)


def clean_text(text: str, spec: DatasetSpec) -> str:
    """Apply the cleaning options to one whole document."""
    if spec.normalize_newlines and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if spec.nfc:
        text = nfc(text)
    if spec.strip:
        text = text.strip()
    return text


def _nfc_cut(buf: str) -> int:
    """An index i with NFC(buf) == NFC(buf[:i]) + NFC(buf[i:]), searched from the end; 0 if none is near."""
    stop = max(0, len(buf) - _NFC_LOOKBACK)
    for i in range(len(buf) - 1, stop, -1):
        ch = buf[i]
        if ch < "\x80":  # ASCII never composes with what precedes it
            return i
        # A starter can only compose with the character right before it (anything between blocks it),
        # but that character may itself be composed from the ones before: Hangul jamo L + V make an
        # LV syllable first, which a trailing T then joins. Three characters back cover that chain.
        if unicodedata.combining(ch) == 0:
            before = buf[max(0, i - 3):i]
            if unicodedata.normalize("NFC", before + ch) == (unicodedata.normalize("NFC", before)
                                                           + unicodedata.normalize("NFC", ch)):
                return i
    return len(buf) if len(buf) > _NFC_HOLD_LIMIT else 0


class StreamCleaner:
    """`clean_text` for a document that arrives in pieces: feed() each piece, then finish()."""

    def __init__(self, spec: DatasetSpec):
        self.spec = spec
        self._cr = False  # a "\r" held back: it may be the first half of "\r\n"
        self._nfc_hold = ""
        self._started = False  # strip: leading whitespace already removed
        self._ws_hold = ""  # strip: trailing whitespace, emitted only if more text follows

    def feed(self, text: str) -> str:
        if self.spec.normalize_newlines:
            if self._cr:
                text, self._cr = "\r" + text, False
            if text.endswith("\r"):
                text, self._cr = text[:-1], True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return self._strip(self._nfc(text))

    def finish(self) -> str:
        text = "\n" if self._cr else ""
        self._cr = False
        out = self._strip(self._nfc(text, final=True))
        self._ws_hold = ""
        return out

    def _nfc(self, text: str, final: bool = False) -> str:
        if not self.spec.nfc:
            return text
        buf = self._nfc_hold + text
        cut = len(buf) if final else _nfc_cut(buf)
        self._nfc_hold = buf[cut:]
        return nfc(buf[:cut])

    def _strip(self, text: str) -> str:
        if not self.spec.strip:
            return text
        if not self._started:
            text = text.lstrip()
            if not text:
                return ""
            self._started = True
        text = self._ws_hold + text
        body = text.rstrip()
        self._ws_hold = text[len(body):]
        return body
