"""Turn a vocabulary entry into text a person can read in a token view.

Byte-level pieces (``Ġthe``) are mapped back to their bytes and decoded (``" the"``); bytes that
are only part of a UTF-8 character show as ``\\xe2``. SentencePiece ``▁`` becomes a space and
byte-fallback pieces (``<0x0A>``) their byte. Whitespace is then made visible: space ``·``,
newline ``⏎``, tab ``→``, carriage return ``␍``; other control characters show as their Unicode
control picture (U+2400 block).
"""

from __future__ import annotations

import re
from functools import lru_cache

from tokenizers import pre_tokenizers

_BYTE_FALLBACK = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_VISIBLE = {ord(" "): "·", ord("\n"): "⏎", ord("\t"): "→", ord("\r"): "␍", 0x7F: "␡"}
_VISIBLE.update({cp: chr(0x2400 + cp) for cp in range(0x20) if cp not in _VISIBLE})


def visible(text: str) -> str:
    return text.translate(_VISIBLE)


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """The GPT-2 byte <-> printable character table, inverted (character -> byte)."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    # Rebuild the canonical table: printable Latin-1 bytes map to themselves, the rest to 256+.
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table: dict[str, int] = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            table[chr(256 + extra)] = b
            extra += 1
    assert set(table) == set(alphabet), "unexpected byte-level alphabet"
    return table


def byte_level_piece_text(piece: str) -> str:
    table = _byte_decoder()
    if not all(ch in table for ch in piece):
        return piece
    return bytes(table[ch] for ch in piece).decode("utf-8", errors="backslashreplace")


def plain_piece_text(piece: str) -> str:
    match = _BYTE_FALLBACK.fullmatch(piece)
    if match:
        return bytes([int(match.group(1), 16)]).decode("utf-8", errors="backslashreplace")
    return piece.replace("▁", " ")
