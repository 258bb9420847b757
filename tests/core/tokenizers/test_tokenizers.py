"""Character, byte-level BPE and pretrained tokenizers: round trips, special tokens, HF files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_data import SHAKESPEARE

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.events import Progress, run_to_end
from workbench.core.base.specs import TokenizerSpec
from workbench.core.tokenizers.pretrained import hub_offline
from workbench.core.tokenizers.tokenizer import WorkbenchTokenizer, load_tokenizer, train_tokenizer

UNICODE_TEXT = (
    "Hello, world! It's 3.14 o'clock.\n"
    "日本語のテキスト。中文字符 한국어\n"
    "emoji 👍🏽 family 👨\u200d👩\u200d👧\u200d👦 flag 🏳\ufe0f\u200d🌈 🇫🇷\n"
    "combining e\u0301 n\u0303 a\u0308\u0304 q\u0323\u0307\n"
    "\ttab\tseparated\r\nwindows line\rold mac line\n"
    "  double  spaces, nbsp\u00a0here\u2028line separator\x00nul \x7f\n"
)



def train(tmp_path: Path, text: str | Path, kind: str, **spec_fields) -> WorkbenchTokenizer:
    if isinstance(text, Path):
        source = text
    else:
        tmp_path.mkdir(parents=True, exist_ok=True)
        source = tmp_path / f"train-{kind}.txt"
        source.write_text(text, encoding="utf-8", newline="")
    spec = TokenizerSpec(name=f"t-{kind}", kind=kind, **spec_fields)
    _, tokenizer = run_to_end(train_tokenizer(spec, source, tmp_path / f"tok-{kind}"))
    return tokenizer


def shakespeare_text() -> str:
    if not SHAKESPEARE.exists():
        pytest.skip("tinyshakespeare.txt is not available")
    return SHAKESPEARE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory) -> Path:
    """A 1024-token BPE trained on Shakespeare plus the Unicode sample (saved folder)."""
    folder = tmp_path_factory.mktemp("bpe")
    text = shakespeare_text()[:200_000] + UNICODE_TEXT
    train(folder, text, "bpe", vocab_size=1024)
    return folder / "tok-bpe"


# ---- character level -----------------------------------------------------------------------------
def test_char_round_trips_shakespeare_one_token_per_character(tmp_path):
    text = shakespeare_text()
    tok = train(tmp_path, SHAKESPEARE, "char")
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert tok.decode(ids) == text
    assert tok.vocab_size == 3 + len(set(text))


def test_char_round_trips_unicode_code_point_by_code_point(tmp_path):
    tok = train(tmp_path, UNICODE_TEXT, "char")
    ids = tok.encode(UNICODE_TEXT)
    assert len(ids) == len(UNICODE_TEXT)  # ZWJ sequences, combining marks and CRLF stay separate
    assert tok.decode(ids) == UNICODE_TEXT
    assert tok.encode_batch([UNICODE_TEXT, "", "e\u0301"]) == [ids, [], tok.encode("e\u0301")]


def test_char_unseen_characters_map_to_unk_and_decode_as_replacement(tmp_path):
    tok = train(tmp_path, "abc abc\n", "char")
    ids = tok.encode("ab zé")
    assert ids[-2:] == [tok.unk_token_id, tok.unk_token_id]
    assert tok.decode(ids) == "ab \ufffd\ufffd"
    assert tok.token_text(tok.unk_token_id) == "<unk>"
    meta = tok.describe()
    assert "<unk>" in meta["unknown_policy"] and "U+FFFD" in meta["unknown_policy"]
    saved = json.loads((tmp_path / "tok-char" / "workbench_tokenizer.json").read_text(encoding="utf-8"))
    assert saved["unknown_policy"] == meta["unknown_policy"]


def test_char_token_text_makes_whitespace_visible(tmp_path):
    tok = train(tmp_path, "a b\n\tc\r", "char")
    assert [tok.token_text(i) for i in tok.encode("a b\n\tc\r")] == ["a", "·", "b", "⏎", "→", "c", "␍"]


# ---- special tokens ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_special_tokens_have_stable_ids(tmp_path, kind):
    extra = ("<|endoftext|>", "<|user|>")
    first = train(tmp_path / "a", "first text, some words\n" * 20, kind, special_tokens=extra, vocab_size=300)
    second = train(tmp_path / "b", "другой текст 完全不同\n" * 20, kind, special_tokens=extra, vocab_size=300)
    for tok in (first, second):
        assert (tok.eos_token_id, tok.mask_token_id) == (0, 1)
        expected = {"<|endoftext|>": 0, "[MASK]": 1}
        expected.update({"<unk>": 2, "<|user|>": 3} if kind == "char" else {"<|user|>": 2})
        assert tok.describe()["special_tokens"] == expected
        assert tok.unk_token_id == (2 if kind == "char" else None)
        ids = tok.encode("words<|endoftext|>words[MASK]<|user|>")
        assert ids.count(0) == 1 and ids.count(1) == 1 and ids.count(expected["<|user|>"]) == 1
        assert tok.token_text(0) == "<|endoftext|>"


def test_special_token_with_whitespace_is_rejected(tmp_path):
    with pytest.raises(InvalidSpecError, match="whitespace"):
        train(tmp_path, "text", "char", special_tokens=("<|a b|>",))


def test_invalid_spec_fails_before_reading(tmp_path):
    with pytest.raises(InvalidSpecError, match="vocab-size"):
        run_to_end(train_tokenizer(TokenizerSpec(name="x", kind="bpe", vocab_size=10), tmp_path / "missing.txt",
                            tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_empty_training_text_is_a_clear_error(tmp_path):
    with pytest.raises(WorkbenchError, match="empty"):
        train(tmp_path, "", "char")


# ---- byte-level BPE ----------------------------------------------------------------------------
def test_bpe_trains_requested_vocabulary_with_progress(tmp_path):
    text = shakespeare_text()
    events, tok = run_to_end(train_tokenizer(TokenizerSpec(name="b", kind="bpe", vocab_size=2000), SHAKESPEARE,
                                      tmp_path / "tok"))
    assert tok.kind == "bpe" and tok.vocab_size == 2000
    reads = [e for e in events if isinstance(e, Progress) and e.stage == "train-tokenizer"]
    assert len(reads) >= 2 and reads[-1].done == reads[-1].total == SHAKESPEARE.stat().st_size
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert len(ids) < len(text) / 2.5  # merges learnt


def test_bpe_round_trips_unicode_it_never_saw(bpe_dir):
    tok = load_tokenizer(bpe_dir)
    unseen = "Ελληνικά ✓ 🧑🏾\u200d🚀 ﷽ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202eRTL\u202c"
    for text in (UNICODE_TEXT, unseen, "", " ", "\n\n\n"):
        assert tok.decode(tok.encode(text)) == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_bpe_round_trips_arbitrary_text(bpe_dir, text):
    tok = load_tokenizer(bpe_dir)
    assert tok.decode(tok.encode(text)) == text


def test_bpe_long_text_encodes_like_one_call(bpe_dir):
    tok = load_tokenizer(bpe_dir)
    text = shakespeare_text()[:300_000]  # long enough for the parallel pieces path
    assert tok.encode(text) == tok.backend.encode(text, add_special_tokens=False).ids


def test_bpe_token_text_decodes_bytes(bpe_dir):
    tok = load_tokenizer(bpe_dir)
    shown = [tok.token_text(i) for i in tok.encode(" the\n\tend")]
    assert "".join(shown) == "·the⏎→end"
    # "æ" is the byte-level piece for the lone byte 0xE6 (a lead byte of a 3-byte UTF-8 character).
    assert tok.token_text(tok.backend.token_to_id("æ")) == "\\xe6"
    assert tok.token_text(tok.backend.token_to_id("Ġ")) == "·"


def test_closing_bpe_training_stops_it_and_writes_nothing(tmp_path):
    text = shakespeare_text()
    source = tmp_path / "big.txt"
    source.write_text(text * 3, encoding="utf-8")
    gen = train_tokenizer(TokenizerSpec(name="b", kind="bpe"), source, tmp_path / "out")
    next(gen)
    gen.close()
    assert not (tmp_path / "out").exists()


# ---- Hugging Face files ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_autotokenizer_loads_saved_folder_and_matches(tmp_path, kind):
    from transformers import AutoTokenizer

    text = shakespeare_text()[:20_000] + UNICODE_TEXT
    tok = train(tmp_path, text, kind, vocab_size=600)
    folder = tmp_path / f"tok-{kind}"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        assert (folder / name).is_file()
    hf = AutoTokenizer.from_pretrained(folder)
    probe = text[-3000:] + " unseen ✓ Ω <|endoftext|> [MASK]"
    ids = tok.encode(probe)
    assert hf.encode(probe, add_special_tokens=False) == ids
    assert hf.decode(ids) == tok.decode(ids)
    assert (hf.eos_token_id, hf.mask_token_id, hf.unk_token_id) == (
        tok.eos_token_id, tok.mask_token_id, tok.unk_token_id)
    assert len(hf) == tok.vocab_size
    converted = tok.to_hf()
    assert converted.encode(probe, add_special_tokens=False) == ids


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_load_tokenizer_gives_the_same_tokenizer(tmp_path, kind):
    tok = train(tmp_path, UNICODE_TEXT * 3, kind, vocab_size=300)
    again = load_tokenizer(tmp_path / f"tok-{kind}")
    assert again.kind == kind and again.describe() == tok.describe()
    assert again.encode(UNICODE_TEXT + "?") == tok.encode(UNICODE_TEXT + "?")


def test_load_tokenizer_of_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_tokenizer(tmp_path / "nothing")


# ---- pretrained --------------------------------------------------------------------------------
@pytest.fixture
def hf_folder(tmp_path) -> Path:
    """A tiny WordPiece (BERT-like) tokenizer written with save_pretrained."""
    from tokenizers import Tokenizer as Backend
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "##s", "!", "a", "b"]
    backend = Backend(models.WordPiece({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    hf = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]",
                                 cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    folder = tmp_path / "hf-src"
    hf.save_pretrained(folder)
    return folder


def test_pretrained_from_local_folder(tmp_path, hf_folder):
    from transformers import AutoTokenizer

    spec = TokenizerSpec(name="p", kind="pretrained", source=str(hf_folder))
    _, tok = run_to_end(train_tokenizer(spec, None, tmp_path / "out"))
    assert tok.kind == "pretrained" and (tmp_path / "out" / "tokenizer.json").is_file()
    reference = AutoTokenizer.from_pretrained(hf_folder)
    text = "Hello worlds! the zz"
    assert tok.encode(text) == reference.encode(text, add_special_tokens=False)
    assert tok.mask_token_id == reference.mask_token_id and tok.unk_token_id == reference.unk_token_id
    assert tok.token_text(tok.encode("worlds")[1]) == "##s"
    again = load_tokenizer(tmp_path / "out")
    assert again.kind == "pretrained" and again.encode(text) == tok.encode(text)
    assert AutoTokenizer.from_pretrained(tmp_path / "out").encode(text) == reference.encode(text)


def test_plain_hf_folder_loads_as_pretrained(hf_folder):
    tok = load_tokenizer(hf_folder)
    assert tok.kind == "pretrained" and tok.vocab_size == 12


def test_pretrained_missing_folder_is_a_clear_error(tmp_path):
    spec = TokenizerSpec(name="p", kind="pretrained", source=str(tmp_path / "no-such-folder"))
    with pytest.raises(WorkbenchError, match="does not exist"):
        run_to_end(train_tokenizer(spec, None, tmp_path / "out"))


def test_unknown_hub_id_offline_fails_fast_and_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = TokenizerSpec(name="p", kind="pretrained", source="no-such-org/made-up-tokenizer-7x")
    started = time.monotonic()
    with pytest.raises(WorkbenchError, match="not in the local Hugging Face cache"):
        run_to_end(train_tokenizer(spec, None, tmp_path / "out"))
    # A hang guard (network retries would take minutes), not a speed goal.
    assert time.monotonic() - started < 10
    assert not (tmp_path / "out").exists()


def test_unreachable_hub_counts_as_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    assert hub_offline()


def test_a_tokenizer_of_a_family_the_installed_app_lacks_loads_from_its_tokenizer_json(tmp_path, hf_folder,
                                                                                        monkeypatch):
    """The installed app carries only the transformers families it trains; a tokenizer whose class
    lives in another family (AutoTokenizer fails to import it there) still loads from tokenizer.json."""
    from transformers import AutoTokenizer

    def missing_family(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'transformers.models.roberta'", name="transformers.models.roberta")

    reference = AutoTokenizer.from_pretrained(hf_folder)
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", missing_family)
    spec = TokenizerSpec(name="p", kind="pretrained", source=str(hf_folder))
    _, tok = run_to_end(train_tokenizer(spec, None, tmp_path / "out"))
    assert tok.encode("Hello worlds!") == reference.encode("Hello worlds!", add_special_tokens=False)
