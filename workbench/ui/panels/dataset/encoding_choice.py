"""The import dialog's Encoding choice: automatic, or a named encoding for files that are not UTF-8.

The items the core's errors suggest are labelled "<name> (<codec>)" with the core's own names
(`ENCODING_NAMES`), so the advice "choose Encoding: Windows-1252 (cp1252)" names an item as shown.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from workbench.core.data.sniff import ENCODING_NAMES


def _named(codec: str) -> tuple[str, str]:
    return codec, f"{ENCODING_NAMES[codec]} ({codec})"


# (codec, label): Unicode first, then the Western legacy encodings the errors suggest, then by region.
ENCODINGS: tuple[tuple[str, str], ...] = (
    ("auto", "Automatic (byte-order mark, else UTF-8)"),
    ("utf-8", "UTF-8"),
    _named("utf-16-le"),
    _named("utf-16-be"),
    _named("utf-32"),
    _named("cp1252"),
    _named("latin-1"),
    ("iso8859-15", "Latin-9 / ISO-8859-15 (iso8859-15)"),
    ("mac-roman", "Mac OS Roman (mac-roman)"),
    ("cp1250", "Central European, Windows-1250 (cp1250)"),
    ("cp1251", "Cyrillic, Windows-1251 (cp1251)"),
    ("koi8-r", "Cyrillic, KOI8-R (koi8-r)"),
    ("cp1253", "Greek, Windows-1253 (cp1253)"),
    ("cp1254", "Turkish, Windows-1254 (cp1254)"),
    ("shift_jis", "Japanese, Shift JIS (shift_jis)"),
    ("euc-jp", "Japanese, EUC-JP (euc-jp)"),
    ("gb18030", "Chinese, GB18030 (gb18030)"),
    ("big5", "Chinese traditional, Big5 (big5)"),
    ("euc-kr", "Korean, EUC-KR (euc-kr)"),
)


def encoding_combo(parent: QWidget | None = None) -> QComboBox:
    """objectName `importEncodingCombo`; item data is the codec name `DatasetSpec.encoding` takes."""
    combo = QComboBox(parent)
    combo.setObjectName("importEncodingCombo")
    for codec, label in ENCODINGS:
        combo.addItem(label, codec)
    combo.setToolTip("How the file's bytes become text. Automatic reads UTF-8, or UTF-16 with a byte-order "
                     "mark; choose another when the preview shows wrong characters or says the file is not UTF-8.")
    return combo
