"""Train/validation split, statistics, output files, progress, and clean-up on errors and cancellation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from shared_data import SHAKESPEARE

import workbench.core.data.importer as datasets
import workbench.core.data.split as dataset_split
import workbench.core.data.text as dataset_text
from workbench.core.base.errors import ImportFailedError, WorkbenchError
from workbench.core.base.events import Progress, run_to_end
from workbench.core.base.specs import DatasetSpec
from workbench.core.data.importer import DOC_SEPARATOR, import_dataset


def run(gen):
    """(returned value, events): the order these tests read."""
    events, value = run_to_end(gen)
    return value, events


def jsonl(path: Path, docs: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    return path


def read_split(out: Path) -> tuple[list[str], list[str]]:
    train = (out / "train.txt").read_text(encoding="utf-8")
    val = (out / "val.txt").read_text(encoding="utf-8")
    return train.split(DOC_SEPARATOR) if train else [], val.split(DOC_SEPARATOR) if val else []


@pytest.mark.parametrize(("n", "fraction", "expected"), [(10, 0.3, 3), (10, 0.25, 2), (2, 0.1, 1), (3, 0.9, 2),
                                                         (7, 0.0, 0)])
def test_split_by_document_exact_count(tmp_path, n, fraction, expected):
    docs = [f"document {i}" for i in range(n)]
    src = jsonl(tmp_path / "d.jsonl", docs)
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=fraction), tmp_path / "out"))
    train, val = read_split(tmp_path / "out")
    assert (result.documents, result.val_documents, result.train_documents) == (n, expected, n - expected)
    assert len(val) == expected and sorted(train + val) == sorted(docs)
    assert train == sorted(train, key=docs.index) and val == sorted(val, key=docs.index)  # source order kept
    assert result.train_chars == len("\n\n".join(train)) and result.val_chars == len("\n\n".join(val))
    assert result.stats["split"] == ("documents" if expected else "none")
    assert (tmp_path / "out" / "val.txt").exists()


def test_split_is_reproducible_by_seed(tmp_path):
    src = jsonl(tmp_path / "d.jsonl", [f"doc {i}" for i in range(100)])
    vals = []
    for i, seed in enumerate((1, 1, 2)):
        out = tmp_path / f"out{i}"
        run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.2, seed=seed), out))
        vals.append((out / "val.txt").read_text(encoding="utf-8"))
    assert vals[0] == vals[1]
    assert vals[0] != vals[2]


@pytest.mark.parametrize("copy_bytes", [8, 1 << 20])
def test_tail_split_cuts_at_nearest_line_start(tmp_path, monkeypatch, copy_bytes):
    monkeypatch.setattr(dataset_split, "COPY_BYTES", copy_bytes)
    text = "aaaa\n" * 20  # 100 chars; 13% -> cut near 87: line starts at 85 and 90, 85 is nearer
    src = tmp_path / "t.txt"
    src.write_text(text, encoding="utf-8")
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.13), tmp_path / "out"))
    train = (tmp_path / "out" / "train.txt").read_text(encoding="utf-8")
    val = (tmp_path / "out" / "val.txt").read_text(encoding="utf-8")
    assert (len(train), len(val)) == (85, 15)
    assert train + val == text
    assert (result.train_chars, result.val_chars, result.documents) == (85, 15, 1)
    assert result.stats["split"] == "tail"


def test_tail_split_without_newlines_and_multibyte(tmp_path):
    text = "é" * 99 + "z"
    src = tmp_path / "t.txt"
    src.write_text(text, encoding="utf-8")
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.1), tmp_path / "out"))
    assert (tmp_path / "out" / "val.txt").read_text(encoding="utf-8") == "é" * 9 + "z"
    assert (result.train_chars, result.val_chars) == (90, 10)


def test_fraction_zero_gives_empty_val(tmp_path):
    src = tmp_path / "t.txt"
    src.write_text("line\n" * 10, encoding="utf-8")
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.0), tmp_path / "out"))
    assert (tmp_path / "out" / "val.txt").read_bytes() == b""
    assert (result.val_chars, result.val_documents, result.train_chars) == (0, 0, 50)


def test_statistics_on_a_hand_checked_input(tmp_path):
    src = jsonl(tmp_path / "d.jsonl", ["aa", "bb", "aa", "c", "bb", "aa", "  "])
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.5, strip=True), tmp_path / "out"))
    s = result.stats
    assert (s["documents"], s["characters"], s["lines"], s["unique_characters"]) == (6, 11, 6, 3)
    assert s["top_characters"] == [["a", 6], ["b", 4], ["c", 1]]
    assert s["document_length"]["min"] == 1 and s["document_length"]["max"] == 2
    assert s["document_length"]["mean"] == pytest.approx(11 / 6, abs=0.05)
    assert s["document_length"]["histogram"] == {"edges": [1, 2, 3], "counts": [1, 5]}
    assert s["duplicates"] == {"documents": 3, "examples": [{"text": "aa", "count": 3}, {"text": "bb", "count": 2}]}
    assert s["empty_documents_dropped"] == 1
    train, val = read_split(tmp_path / "out")
    assert s["train_val_overlap"]["documents"] == sum(v in train for v in val)
    assert (s["train_documents"], s["val_documents"]) == (3, 3)
    assert (s["train_chars"], s["val_chars"]) == (result.train_chars, result.val_chars)
    assert json.loads((tmp_path / "out" / "stats.json").read_text(encoding="utf-8")) == s
    digest = hashlib.sha256((tmp_path / "out" / "train.txt").read_bytes() + (tmp_path / "out" / "val.txt").read_bytes())
    assert result.sha256 == digest.hexdigest()


@pytest.mark.parametrize(("docs", "overlap"), [(["same", "same"], 1), (["one", "two"], 0)])
def test_train_val_overlap(tmp_path, docs, overlap):
    src = jsonl(tmp_path / "d.jsonl", docs)
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.5), tmp_path / "out"))
    assert result.stats["train_val_overlap"]["documents"] == overlap
    assert len(result.stats["train_val_overlap"]["examples"]) == overlap


def test_long_tailed_lengths_use_geometric_bins(tmp_path):
    src = jsonl(tmp_path / "d.jsonl", ["x" * n for n in (1, 2, 3, 10, 100, 1000)])
    result, _ = run(import_dataset([src], DatasetSpec(name="d"), tmp_path / "out"))
    hist = result.stats["document_length"]["histogram"]
    assert sum(hist["counts"]) == 6 and hist["edges"][0] == 1 and hist["edges"][-1] == 1001
    assert len(hist["counts"]) == len(hist["edges"]) - 1


def test_progress_reports_bytes_read(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "PROGRESS_BYTES", 100)
    monkeypatch.setattr(dataset_text, "CHUNK_BYTES", 64)
    src = jsonl(tmp_path / "d.jsonl", [f"document number {i}" for i in range(200)])
    _, events = run(import_dataset([src], DatasetSpec(name="d"), tmp_path / "out"))
    reads = [e for e in events if isinstance(e, Progress) and e.stage == "read"]
    assert len(reads) > 10
    assert all(e.total == src.stat().st_size for e in reads)
    assert [e.done for e in reads] == sorted(e.done for e in reads) and reads[-1].done == reads[-1].total


def test_cancellation_removes_partial_output(tmp_path):
    src = tmp_path / "big.txt"
    src.write_text("some words on a line\n" * 200_000, encoding="utf-8")  # 4.2 MB: several progress events
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.me").write_text("the caller's", encoding="utf-8")
    gen = import_dataset([src], DatasetSpec(name="d"), out)
    assert isinstance(next(gen), Progress)
    assert any(out.iterdir())
    gen.close()
    assert [p.name for p in out.iterdir()] == ["keep.me"]


def test_cancellation_during_split_and_error_clean_up(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_split, "PROGRESS_BYTES", 10)
    src = jsonl(tmp_path / "d.jsonl", [f"doc {i}" for i in range(50)])
    gen = import_dataset([src], DatasetSpec(name="d"), tmp_path / "out")
    while not (isinstance(event := next(gen), Progress) and event.stage == "split"):
        pass
    assert (tmp_path / "out" / "train.txt").exists()
    gen.close()
    assert list((tmp_path / "out").iterdir()) == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ImportFailedError):
        run(import_dataset([src, bad], DatasetSpec(name="d"), tmp_path / "out"))
    assert list((tmp_path / "out").iterdir()) == []


def test_invalid_spec_is_refused_before_writing(tmp_path):
    src = jsonl(tmp_path / "d.jsonl", ["a"])
    with pytest.raises(WorkbenchError, match="val-fraction"):
        run(import_dataset([src], DatasetSpec(name="d", val_fraction=1.5), tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_tinyshakespeare(tmp_path):
    if not SHAKESPEARE.exists():
        pytest.skip("tinyshakespeare.txt is not here")
    result, _ = run(import_dataset([SHAKESPEARE], DatasetSpec(name="s"), tmp_path / "out"))
    assert (result.documents, result.stats["characters"], result.stats["unique_characters"]) == (1, 1115394, 65)
    assert result.train_chars + result.val_chars == 1115394
    assert abs(result.val_chars - 111539) < 2000
    train = (tmp_path / "out" / "train.txt").read_bytes()
    assert train.endswith(b"\n") and train + (tmp_path / "out" / "val.txt").read_bytes() == SHAKESPEARE.read_bytes()


def test_unwritable_output_is_an_import_error(tmp_path):
    src = jsonl(tmp_path / "d.jsonl", ["a"])
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be", encoding="utf-8")
    with pytest.raises(ImportFailedError, match="could not read or write"):
        run(import_dataset([src], DatasetSpec(name="d"), blocker))


def test_tail_cut_does_not_travel_to_a_far_line_start(tmp_path):
    text = "a" * 100_000 + "\n" + "b" * 100_000  # the only line start is in the middle
    src = tmp_path / "t.txt"
    src.write_text(text, encoding="utf-8")
    result, _ = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.1), tmp_path / "out"))
    assert (result.train_chars, result.val_chars) == (180_001, 20_000)  # the exact 10%, mid-line
    two_lines = tmp_path / "two.txt"
    two_lines.write_text("first line here\nsecond line", encoding="utf-8")
    result, _ = run(import_dataset([two_lines], DatasetSpec(name="d", val_fraction=0.1), tmp_path / "out2"))
    assert result.val_chars in (2, 3)  # ~10% of 27, not the whole second line


def test_few_documents_warn_that_validation_is_lopsided(tmp_path):
    from workbench.core.base.events import Notice
    from workbench.ui.panels.dataset.warnings import dataset_warnings

    src = jsonl(tmp_path / "d.jsonl", ["one document " * 50, "another document " * 50])
    result, events = run(import_dataset([src], DatasetSpec(name="d", val_fraction=0.1), tmp_path / "out"))
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("validation holds" in n and "not the 10% asked for" in n for n in notices), notices
    assert result.stats["val_fraction_requested"] == 0.1
    assert "uneven-split" in [w.key for w in dataset_warnings(result.stats)]
    many = jsonl(tmp_path / "m.jsonl", [f"document number {i}" for i in range(100)])
    result, events = run(import_dataset([many], DatasetSpec(name="m", val_fraction=0.1), tmp_path / "out3"))
    assert not [e for e in events if isinstance(e, Notice)]
    assert "uneven-split" not in [w.key for w in dataset_warnings(result.stats)]
