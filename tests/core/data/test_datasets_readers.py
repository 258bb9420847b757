"""Each reader end to end through import_dataset: txt, md, folder, JSONL, CSV, Parquet; detect_format."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from workbench.core.base.errors import ImportFailedError
from workbench.core.base.events import Notice, run_to_end
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.importer import DOC_SEPARATOR, detect_format, import_dataset


def run(gen):
    """(returned value, events): the order these tests read."""
    events, value = run_to_end(gen)
    return value, events


def spec(**kw) -> DatasetSpec:
    kw.setdefault("val_fraction", 0.0)
    return DatasetSpec(name="d", **kw)


def docs_of(out: Path) -> list[str]:
    return (out / "train.txt").read_text(encoding="utf-8").split(DOC_SEPARATOR)


def test_detect_format(tmp_path):
    cases = {"a.txt": "txt", "a.TXT": "txt", "a.md": "md", "a.markdown": "md", "a.rst": "txt", "a.jsonl": "jsonl",
             "a.ndjson": "jsonl", "a.csv": "csv", "a.tsv": "csv", "a.parquet": "parquet", "noext": "txt",
             "a.log": "txt"}
    for name, kind in cases.items():
        assert detect_format(tmp_path / name) == kind, name
    assert detect_format(tmp_path) == "folder"


def test_plain_text_and_markdown(tmp_path):
    (tmp_path / "a.txt").write_text("hello\nworld\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title\n\nbody *text*\n", encoding="utf-8")
    result, _ = run(import_dataset([tmp_path / "a.txt", tmp_path / "b.md"], spec(), tmp_path / "out"))
    assert result.format == "mixed"
    assert result.documents == 2
    train = (tmp_path / "out" / "train.txt").read_text(encoding="utf-8")
    assert train == "hello\nworld\n" + DOC_SEPARATOR + "# Title\n\nbody *text*\n"
    one, _ = run(import_dataset([tmp_path / "b.md"], spec(), tmp_path / "out2"))
    assert one.format == "md"
    assert one.sources == (str((tmp_path / "b.md").resolve()),)


def test_folder_reads_text_files_sorted_and_reports_skips(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_text("hidden", encoding="utf-8")
    (root / "b.txt").write_text("bee", encoding="utf-8")
    (root / "a.md").write_text("ay", encoding="utf-8")
    (root / "sub" / "c.rst").write_text("sea", encoding="utf-8")
    (root / "README").write_text("readme text", encoding="utf-8")
    (root / ".hidden.txt").write_text("secret", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "blob").write_bytes(bytes(range(256)))
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (root / "spaces.txt").write_text("   \n  ", encoding="utf-8")
    result, events = run(import_dataset([root], spec(strip=True), tmp_path / "out"))
    assert result.format == "folder"
    assert docs_of(tmp_path / "out") == ["readme text", "ay", "bee", "sea"]
    reasons = {Path(p).name: r for p, r in result.skipped}
    assert set(reasons) == {".git", ".hidden.txt", "image.png", "blob", "empty.txt", "binary.txt", "spaces.txt"}
    assert reasons[".git"] == "hidden folder"
    assert reasons[".hidden.txt"] == "hidden file"
    assert ".png" in reasons["image.png"]
    assert reasons["empty.txt"] == "empty"
    assert "binary" in reasons["binary.txt"] and "not text" in reasons["blob"]
    assert "no text left" in reasons["spaces.txt"]
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert len(notices) == len(result.skipped)
    assert all(n.startswith("skipped ") for n in notices)
    assert set(result.encodings) == {str(root / n) for n in ("README", "a.md", "b.txt", "sub/c.rst")}


def test_folder_with_nothing_to_read(tmp_path):
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "x.bin").write_bytes(b"\x00")
    with pytest.raises(ImportFailedError, match="every file was skipped"):
        run(import_dataset([tmp_path / "f"], spec(), tmp_path / "out"))


def test_folder_format_mismatches(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ImportFailedError, match="is a file, not a folder"):
        run(import_dataset([tmp_path / "a.txt"], spec(format="folder"), tmp_path / "out"))
    with pytest.raises(ImportFailedError, match="is a folder"):
        run(import_dataset([tmp_path], spec(format="jsonl"), tmp_path / "out"))


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def test_jsonl_default_and_custom_field(tmp_path):
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": "one", "id": 1}, "", {"text": "two\nlines"},
                                             {"text": "ünï", "body": "x"}])
    result, _ = run(import_dataset([src], spec(), tmp_path / "out"))
    assert result.format == "jsonl"
    assert docs_of(tmp_path / "out") == ["one", "two\nlines", "ünï"]
    src2 = write_jsonl(tmp_path / "e.jsonl", [{"body": "a"}, {"body": "b"}])
    run(import_dataset([src2], spec(field="body"), tmp_path / "out2"))
    assert docs_of(tmp_path / "out2") == ["a", "b"]


def test_jsonl_invalid_line_names_file_and_line(tmp_path):
    src = tmp_path / "broken.jsonl"
    src.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(ImportFailedError, match=r"broken\.jsonl line 2 is not valid JSON"):
        run(import_dataset([src], spec(), tmp_path / "out"))
    assert not any((tmp_path / "out").iterdir())


def test_jsonl_missing_field_lists_keys(tmp_path):
    src = write_jsonl(tmp_path / "nofield.jsonl", [{"body": "a", "id": 3}])
    with pytest.raises(ImportFailedError, match=r"line 1 has no field \"text\"; its fields are: 'body', 'id'"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_jsonl_non_string_values(tmp_path):
    src = write_jsonl(tmp_path / "n.jsonl", [{"text": "a"}, {"text": None}, {"text": "b"}])
    result, events = run(import_dataset([src], spec(), tmp_path / "out"))
    assert result.documents == 2
    assert any(isinstance(e, Notice) and "1 line(s)" in e.message for e in events)
    for bad, kind in ((42, "a number"), ([1], "a list"), ({"a": 1}, "an object"), (True, "true/false")):
        src = write_jsonl(tmp_path / "bad.jsonl", [{"text": "fine"}, {"text": bad}])
        with pytest.raises(ImportFailedError, match=f"line 2: field \"text\" holds {kind}"):
            run(import_dataset([src], spec(), tmp_path / "out"))
    src = write_jsonl(tmp_path / "arr.jsonl", [["text"]])
    with pytest.raises(ImportFailedError, match="holds a list, not a JSON object"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_jsonl_unpaired_surrogate(tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_text('{"text": "a\\ud800b"}\n', encoding="utf-8")
    with pytest.raises(ImportFailedError, match="unpaired surrogate"):
        run(import_dataset([src], spec(), tmp_path / "out"))
    run(import_dataset([src], spec(replace_invalid=True), tmp_path / "out"))
    assert docs_of(tmp_path / "out") == ["a\ufffdb"]


def test_csv_column_multiline_and_quotes(tmp_path):
    src = tmp_path / "d.csv"
    src.write_bytes(b'id,text\r\n1,"first, with comma"\r\n2,"multi\r\nline ""quoted"""\r\n3,plain\r\n\r\n4\r\n')
    result, _ = run(import_dataset([src], spec(), tmp_path / "out"))
    assert result.format == "csv"
    assert docs_of(tmp_path / "out") == ["first, with comma", 'multi\nline "quoted"', "plain"]


def test_csv_missing_column_lists_columns(tmp_path):
    src = tmp_path / "nocol.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFailedError, match="no column \"text\"; its columns are: 'a', 'b'"):
        run(import_dataset([src], spec(), tmp_path / "out"))
    run(import_dataset([src], spec(field="b"), tmp_path / "out"))
    assert docs_of(tmp_path / "out") == ["2"]


def test_csv_large_field_and_tsv(tmp_path):
    big = "word " * 100_000  # 500 kB: over csv's default 128 kB field limit
    src = tmp_path / "big.csv"
    src.write_text(f'text\n"{big}"\nsmall\n', encoding="utf-8")
    result, _ = run(import_dataset([src], spec(), tmp_path / "out"))
    assert docs_of(tmp_path / "out") == [big, "small"]
    tsv = tmp_path / "d.tsv"
    tsv.write_text("n\ttext\n1\ta, b\n", encoding="utf-8")
    run(import_dataset([tsv], spec(), tmp_path / "out2"))
    assert docs_of(tmp_path / "out2") == ["a, b"]


def test_csv_error_names_file_and_line(tmp_path):
    src = tmp_path / "q.csv"
    src.write_bytes(b"text\nfine\na\rb\n")
    with pytest.raises(ImportFailedError, match=r"q\.csv line 3 is not valid CSV"):
        run(import_dataset([src], spec(), tmp_path / "out"))


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["alpha", None, "beta", "gamma"], "n": [1, 2, 3, 4]}), src, row_group_size=2)
    result, events = run(import_dataset([src], spec(), tmp_path / "out"))
    assert result.format == "parquet"
    assert result.encodings == {str(src): "utf-8"}
    assert docs_of(tmp_path / "out") == ["alpha", "beta", "gamma"]
    assert any(isinstance(e, Notice) and "null" in e.message for e in events)
    with pytest.raises(ImportFailedError, match="no column \"body\"; its columns are: 'text', 'n'"):
        run(import_dataset([src], spec(field="body"), tmp_path / "out"))
    with pytest.raises(ImportFailedError, match="column \"n\" holds int64, not text"):
        run(import_dataset([src], spec(field="n"), tmp_path / "out"))
    fake = tmp_path / "fake.parquet"
    fake.write_text("not parquet", encoding="utf-8")
    with pytest.raises(ImportFailedError, match="not a readable Parquet file"):
        run(import_dataset([fake], spec(), tmp_path / "out"))


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    src = tmp_path / "d.parquet"
    src.write_bytes(b"PAR1 not really")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportFailedError, match=r"pip install lm-workbench\[parquet\]"):
        run(import_dataset([src], spec(), tmp_path / "out"))
