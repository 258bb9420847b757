"""Token caches: dtype choice, equality with whole-text encoding, streaming, cancellation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import SHAKESPEARE

from workbench.core.base.errors import WorkbenchError
from workbench.core.base.events import Progress, run_to_end
from workbench.core.base.specs import TokenizerSpec
from workbench.core.data.token_cache import build_token_cache, cache_dtype, open_token_cache
from workbench.core.tokenizers.bpe import new_bpe_backend
from workbench.core.tokenizers.text import iter_text_chunks, split_pieces
from workbench.core.tokenizers.tokenizer import WorkbenchTokenizer, train_tokenizer


def need_shakespeare() -> Path:
    if not SHAKESPEARE.exists():
        pytest.skip("tinyshakespeare.txt is not available")
    return SHAKESPEARE


@pytest.fixture(scope="module", params=["char", "bpe"])
def shakespeare_tokenizer(request, tmp_path_factory) -> WorkbenchTokenizer:
    source = need_shakespeare()
    spec = TokenizerSpec(name=request.param, kind=request.param, vocab_size=4096)
    _, tok = run_to_end(train_tokenizer(spec, source, tmp_path_factory.mktemp("tok") / "t"))
    return tok


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cache_dtype_fits_the_vocabulary():
    assert cache_dtype(68) == np.uint16
    assert cache_dtype(65536) == np.uint16  # ids 0..65535
    assert cache_dtype(65537) == np.uint32
    assert cache_dtype(200_000) == np.uint32
    with pytest.raises(ValueError):
        cache_dtype(0)


@pytest.mark.parametrize("chunk_chars", [1 << 12, 1 << 20])
def test_cache_equals_whole_text_encoding(tmp_path, shakespeare_tokenizer, chunk_chars):
    tok = shakespeare_tokenizer
    text = SHAKESPEARE.read_text(encoding="utf-8")
    events, count = run_to_end(build_token_cache(tok, SHAKESPEARE, tmp_path / "train.bin", chunk_chars=chunk_chars))
    cache = open_token_cache(tmp_path / "train.bin", tok.vocab_size)
    whole = np.asarray(tok.backend.encode(text, add_special_tokens=False).ids)
    assert count == len(cache) == len(whole)
    assert np.array_equal(cache, whole)
    chunks = sum(1 for _ in iter_text_chunks(SHAKESPEARE, chunk_chars))
    assert sum(isinstance(e, Progress) for e in events) >= chunks
    assert events[-1].done == events[-1].total == SHAKESPEARE.stat().st_size
    assert leftovers(tmp_path) == ["train.bin"]


def test_cache_is_read_only(tmp_path, shakespeare_tokenizer):
    text = tmp_path / "t.txt"
    text.write_text("To be, or not to be\n", encoding="utf-8")
    run_to_end(build_token_cache(shakespeare_tokenizer, text, tmp_path / "c.bin"))
    cache = open_token_cache(tmp_path / "c.bin", shakespeare_tokenizer.vocab_size)
    assert cache.dtype == np.uint16
    with pytest.raises((ValueError, TypeError)):
        cache[0] = 1


def test_large_vocabulary_uses_uint32(tmp_path):
    chars = [chr(cp) for cp in [*range(0x4E00, 0xA000), *range(0xAC00, 0xD7A4), *range(0x20000, 0x2A6E0)]]
    text = "".join(chars) + "\n"
    source = tmp_path / "many.txt"
    source.write_text(text, encoding="utf-8")
    _, tok = run_to_end(train_tokenizer(TokenizerSpec(name="wide", kind="char"), source, tmp_path / "tok"))
    assert tok.vocab_size > 65536
    _, count = run_to_end(build_token_cache(tok, source, tmp_path / "c.bin", chunk_chars=1 << 14))
    cache = open_token_cache(tmp_path / "c.bin", tok.vocab_size)
    assert cache.dtype == np.uint32 and count == len(text)
    assert np.array_equal(cache, tok.encode(text))
    assert tok.decode(cache) == text


def test_cancel_leaves_no_file(tmp_path, shakespeare_tokenizer):
    out = tmp_path / "cache" / "train.bin"
    gen = build_token_cache(shakespeare_tokenizer, SHAKESPEARE, out, chunk_chars=1 << 14)
    next(gen)
    next(gen)
    gen.close()
    assert leftovers(out.parent) == []


def test_invalid_utf8_is_a_clear_error_and_leaves_no_file(tmp_path, shakespeare_tokenizer):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"fine text\n" * 100 + b"\xff\xfe broken\n")
    with pytest.raises(WorkbenchError, match="not valid UTF-8"):
        run_to_end(build_token_cache(shakespeare_tokenizer, source, tmp_path / "out" / "c.bin", chunk_chars=64))
    assert leftovers(tmp_path / "out") == []


def test_empty_text_gives_an_empty_cache(tmp_path, shakespeare_tokenizer):
    source = tmp_path / "empty.txt"
    source.write_bytes(b"")
    _, count = run_to_end(build_token_cache(shakespeare_tokenizer, source, tmp_path / "c.bin"))
    assert count == 0
    assert len(open_token_cache(tmp_path / "c.bin", shakespeare_tokenizer.vocab_size)) == 0


def test_damaged_or_missing_cache_is_a_clear_error(tmp_path):
    (tmp_path / "odd.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(WorkbenchError, match="damaged"):
        open_token_cache(tmp_path / "odd.bin", 100)
    with pytest.raises(WorkbenchError, match="missing"):
        open_token_cache(tmp_path / "none.bin", 100)


_BACKEND = new_bpe_backend()  # untrained: pre-tokenization + byte alphabet only, enough to compare


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=" \n\t\r\x1c\x85.,'sdtZé日😀\u00a0", max_size=400),
       piece=st.integers(min_value=4, max_value=40))
def test_cut_points_never_change_byte_level_pre_tokens(text, piece):
    pieces = split_pieces(text, piece)
    assert "".join(pieces) == text
    pre = _BACKEND.pre_tokenizer
    whole = [t for t, _ in pre.pre_tokenize_str(text)]
    parts = [t for p in pieces for t, _ in pre.pre_tokenize_str(p)]
    assert parts == whole


def test_cancelling_while_encoding_leaves_no_tokenizer(tmp_path):
    from workbench.core.base.specs import DatasetSpec
    from workbench.core.ops.catalog import create_tokenizer, import_into_project
    from workbench.core.project.store import ProjectStore

    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 60_000, encoding="utf-8")
    with ProjectStore.create(tmp_path / "p.wbproj") as store:
        run_to_end(import_into_project(store, [text], DatasetSpec(name="d")))
        job = create_tokenizer(store, "d", TokenizerSpec(name="chars", kind="char"))
        for event in job:
            if getattr(event, "stage", "") == "encode" and event.done > 0:
                break  # the tokenizer is trained and saved; its cache is half written
        job.close()  # Cancel
        assert store.list_tokenizers() == [] and store.query("SELECT * FROM token_caches") == []
        assert not list((store.root / "tokenizers").iterdir()) and not list((store.root / "caches").iterdir())
        done = run_to_end(create_tokenizer(store, "d", TokenizerSpec(name="chars", kind="char")))[1]
        assert done["name"] == "chars"  # the name is free again
