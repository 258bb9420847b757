"""Read a UTF-8 text file in pieces that tokenize exactly like the whole text.

Tokenizing a large file in one call would need the whole file in memory, so the file is read in
chunks and each chunk is tokenized on its own. A chunk boundary must not change the tokens, so
chunks are cut only where no pre-token can span the cut:

1. preferred: just after a lone newline that sits between two non-whitespace characters
   (``"...word\\nWord..."``). Exact for character tokenizers, the GPT-2 byte-level regex our BPE
   uses, and the Llama-3 style regexes (which glue punctuation to a following newline);
2. otherwise: between a non-whitespace character and a whitespace character
   (``"word| word"``). Exact for character tokenizers and the GPT-2 byte-level regex;
3. otherwise (a very long run without whitespace): anywhere, which may change a token or two.

Special tokens never contain whitespace (`train_tokenizer` checks), so no rule cuts one in two.
Tokenizers that prepend a marker to every input (SentencePiece ``▁``) add one per chunk whatever
the cut; that only concerns some pretrained tokenizers and is documented there.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from workbench.core.base.errors import WorkbenchError

# Python counts \x1c-\x1f as whitespace, Unicode (and the tokenizers' regexes) do not: a cut
# needs real whitespace after it, while "not Python whitespace" before it is the safe side.
_NONSPACE_THEN_SPACE = re.compile(r"\S(?=[^\S\x1c-\x1f])")
# A chunk with no cut point at all is still cut once it has grown this many times past its size.
_MAX_GROWTH = 8


def find_cut(text: str, lo: int, hi: int) -> int:
    """A cut position p with lo < p < hi (hi <= len(text)) that keeps tokens unchanged, or -1."""
    hi = min(hi, len(text))
    # Rule 1: text[p - 1] == "\n" with non-whitespace on both sides.
    newline = text.rfind("\n", lo + 1, hi - 1)
    while newline > lo:
        cut = newline + 1
        if not text[newline - 1].isspace() and not text[cut].isspace():
            return cut
        newline = text.rfind("\n", lo + 1, newline)
    # Rule 2: the last non-whitespace character followed by whitespace.
    last = -1
    for match in _NONSPACE_THEN_SPACE.finditer(text, lo, hi):
        last = match.end()
    return last if lo < last < hi else -1


def split_pieces(text: str, piece_chars: int) -> list[str]:
    """Split `text` into pieces of about `piece_chars` characters at exact cut points."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > piece_chars * 3 // 2:
        target = start + piece_chars
        cut = find_cut(text, start + piece_chars // 2, target)
        if cut < 0:
            cut = find_cut(text, target, min(len(text), start + piece_chars * _MAX_GROWTH))
        if cut < 0:
            break
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def iter_text_chunks(path: Path, chunk_chars: int = 1 << 20) -> Iterator[tuple[str, int]]:
    """Yield `(chunk, bytes_read)` for a UTF-8 file, chunks of about `chunk_chars` characters.

    Newlines are kept exactly as stored (no ``\\r\\n`` translation), so the chunks joined give the
    file's text. Raises `WorkbenchError` when the file is missing or not valid UTF-8.
    """
    if chunk_chars < 16:
        raise ValueError("chunk_chars must be at least 16")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    carry = ""
    bytes_read = 0
    try:
        with open(path, "rb") as handle:
            while True:
                raw = handle.read(chunk_chars)
                bytes_read += len(raw)
                text = carry + decoder.decode(raw, final=not raw)
                if not raw:
                    if text:
                        yield text, bytes_read
                    return
                if len(text) < chunk_chars:
                    carry = text
                    continue
                cut = find_cut(text, len(text) // 2, len(text))
                if cut < 0:
                    if len(text) < chunk_chars * _MAX_GROWTH:
                        carry = text
                        continue
                    cut = len(text)
                yield text[:cut], bytes_read
                carry = text[cut:]
    except FileNotFoundError as exc:
        raise WorkbenchError(f"text file {path} does not exist; re-import the dataset") from exc
    except UnicodeDecodeError as exc:
        raise WorkbenchError(
            f"{path} is not valid UTF-8 (near byte {max(0, bytes_read - len(raw) + exc.start)}); "
            "re-import it as a dataset, which converts it to UTF-8") from exc
