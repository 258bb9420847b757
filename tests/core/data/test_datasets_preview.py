"""preview(): the start of the sources as the import dialog shows them."""

from __future__ import annotations

import json

import pytest

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.importer import preview


def test_text_preview_is_cleaned_and_truncated(tmp_path):
    src = tmp_path / "a.txt"
    src.write_bytes(b"\xef\xbb\xbf" + ("line\r\n" * 500).encode())
    p = preview([src], DatasetSpec(name="d"))
    assert (p.format, p.encoding, p.fields, p.total_bytes) == ("txt", "utf-8-sig", (), src.stat().st_size)
    assert p.records == (("line\n" * 100),)


def test_jsonl_preview_lists_fields_and_notes_a_missing_field(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [{"text": f"doc {i}", "id": i} for i in range(30)]
                             + [{"body": "x"}]), encoding="utf-8")
    p = preview([src], DatasetSpec(name="d"), max_records=5)
    assert p.format == "jsonl" and p.fields == ("text", "id")
    assert p.records == tuple(f"doc {i}" for i in range(5))
    other = preview([src], DatasetSpec(name="d", field="body"), max_records=3)
    assert other.records == () and other.fields == ("text", "id")
    assert any('no field "body"' in n for n in other.notes)
    src.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(ImportFailedError, match="line 2 is not valid JSON"):
        preview([src], DatasetSpec(name="d"))


def test_csv_preview(tmp_path):
    src = tmp_path / "d.csv"
    src.write_text('id,text\n1,"a\nb"\n2,  c  \n', encoding="utf-8")
    p = preview([src], DatasetSpec(name="d", strip=True))
    assert (p.format, p.fields, p.records) == ("csv", ("id", "text"), ("a\nb", "c"))
    missing = preview([src], DatasetSpec(name="d", field="body"))
    assert missing.records == () and any('no column "body"' in n for n in missing.notes)


def test_parquet_preview(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"n": [1, 2, 3], "text": ["x", None, "z"]}), src)
    p = preview([src], DatasetSpec(name="d"))
    assert (p.format, p.encoding, p.fields, p.records) == ("parquet", "utf-8", ("n", "text"), ("x", "z"))
    wrong = preview([src], DatasetSpec(name="d", field="n"))
    assert wrong.records == () and any("not text" in n for n in wrong.notes)


def test_folder_preview_one_record_per_file_and_skips(tmp_path):
    for name in ("b.txt", "a.md", "c.txt"):
        (tmp_path / name).write_text(f"content of {name}", encoding="utf-8")
    (tmp_path / "x.png").write_bytes(b"\x89PNG")
    p = preview([tmp_path], DatasetSpec(name="d"), max_records=2)
    assert p.format == "folder"
    assert p.records == ("content of a.md", "content of b.txt")
    assert any("x.png" in n for n in p.notes)
