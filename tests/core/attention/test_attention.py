"""Attention extraction: shapes, row sums, causality, labels, aggregations, overflow modes,
memory, the lean training GPT, and snapshots."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
)

from workbench.core.attention.extraction import (
    MAX_WINDOW_TOKENS,
    attention_rollout,
    extract_attention,
    head_entropy,
)
from workbench.core.attention.snapshots import (
    PROBE_TOKENS,
    load_attention_snapshot,
    load_attention_snapshots,
    save_attention_snapshot,
    snapshot_row,
)
from workbench.core.base.errors import WorkbenchError
from workbench.core.base.specs import TokenizerSpec
from workbench.core.models.lean_gpt import LeanGPT, LeanGPTConfig
from workbench.core.project.store import ProjectStore, now_iso
from workbench.core.tokenizers.tokenizer import train_tokenizer

VOCAB = 130


class SmallTokenizer:
    """One token per ASCII character (id = code point); [MASK] is id 129."""

    eos_token_id = None
    mask_token_id = 129

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text if ord(c) < 128]

    def decode(self, ids) -> str:
        return "".join(chr(i) for i in ids)

    def token_text(self, token_id: int) -> str:
        return "[MASK]" if token_id == self.mask_token_id else chr(token_id)


def gpt2(positions: int = 64, layers: int = 2, heads: int = 2, dims: int = 32, vocab: int = VOCAB):
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_positions=positions, n_layer=layers, n_head=heads,
                                      n_embd=dims, bos_token_id=None, eos_token_id=None)).eval()


def llama():
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
                                        bos_token_id=None, eos_token_id=None, pad_token_id=None)).eval()


def bert():
    torch.manual_seed(0)
    return BertForMaskedLM(BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                      intermediate_size=64, max_position_embeddings=64)).eval()


TEXT = "the quick brown fox"


@pytest.mark.parametrize("make_model", [gpt2, llama])
def test_causal_models_rows_sum_to_one_and_look_back_only(make_model):
    model = make_model()
    result = extract_attention(model, SmallTokenizer(), TEXT)
    assert result.weights.shape == (2, 2, len(TEXT), len(TEXT)) and result.weights.dtype == np.float16
    weights = result.weights.astype(np.float32)
    assert np.allclose(weights.sum(-1), 1, atol=2e-3)
    assert np.all(np.triu(weights, 1) == 0)
    assert result.causal and result.dropped_tokens == 0 and result.notice == ""
    assert model.config._attn_implementation == "sdpa"  # restored after the eager read


def test_bert_attends_both_ways_and_reads_mask():
    model, tok = bert(), SmallTokenizer()
    result = extract_attention(model, tok, "the [MASK] fox")
    weights = result.weights.astype(np.float32)
    assert np.allclose(weights.sum(-1), 1, atol=2e-3)
    assert np.triu(weights, 1).sum() > 1 and not result.causal
    assert "[MASK]" in result.tokens and len(result.tokens) == len("the  fox") + 1


def test_bpe_labels_are_readable(tmp_path):
    text = tmp_path / "train.txt"
    text.write_text("hello world, naïve café.\nhello again world\n" * 50, encoding="utf-8")
    gen = train_tokenizer(TokenizerSpec(name="bpe", kind="bpe", vocab_size=300), text, tmp_path / "tok")
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            tok = stop.value
            break
    model = gpt2(vocab=tok.vocab_size)
    result = extract_attention(model, tok, "hello world\nnaïve")
    joined = "".join(result.tokens)
    assert len(result.tokens) < len("hello world\nnaïve")  # real BPE pieces, not characters
    assert joined.startswith("hello·world⏎na") and "Ġ" not in joined and "Ċ" not in joined
    # a piece that is only part of a UTF-8 character shows its byte; whole pieces show their text
    assert joined.endswith("ve") and ("ï" in joined or "\\xc3" in joined)


def test_rollout_and_entropy():
    result = extract_attention(gpt2(), SmallTokenizer(), TEXT)
    rolled = result.rollout()
    assert rolled.shape == (2, len(TEXT), len(TEXT))
    assert np.allclose(rolled.sum(-1), 1, atol=1e-3) and np.allclose(np.triu(rolled, 1), 0)
    entropy = result.entropy()
    assert entropy.shape == (2, 2) and np.all(entropy >= 0) and np.all(entropy <= math.log(len(TEXT)))
    assert result.mean_over_heads().shape == (2, len(TEXT), len(TEXT))
    # known values: one-hot attention has entropy 0; uniform causal rows have mean log(i + 1)
    size = 6
    uniform = np.tril(np.ones((size, size))) / np.arange(1, size + 1)[:, None]
    assert head_entropy(np.eye(size)[None, None]) == pytest.approx(0)
    assert head_entropy(uniform[None, None])[0, 0] == pytest.approx(np.mean(np.log(np.arange(1, size + 1))))
    # rollout of identity attention is the identity at every layer
    assert np.allclose(attention_rollout(np.stack([np.eye(size)[None]] * 3)), np.eye(size))


def test_long_input_truncate_and_window():
    model, tok = gpt2(positions=16), SmallTokenizer()
    text = "abcdefghijklmnopqrstuvwxyz" * 2  # 52 tokens, context 16
    truncated = extract_attention(model, tok, text, overflow="truncate")
    assert truncated.weights.shape[-1] == 16 and truncated.dropped_tokens == 36 and "16" in truncated.notice
    assert "".join(truncated.tokens) == text[-16:]
    window = extract_attention(model, tok, text, overflow="window")
    weights = window.weights.astype(np.float32)
    assert weights.shape[-1] == 52 and window.dropped_tokens == 0 and window.notice
    assert np.allclose(weights.sum(-1), 1, atol=2e-3) and np.all(np.triu(weights, 1) == 0)
    reach = np.arange(52)[:, None] - np.arange(52)[None, :]
    assert np.all(weights[..., reach >= 16] == 0)  # each row only sees its own window
    # the first rows come from the first window, the last ones from the truncated view
    first = extract_attention(model, tok, text[:16]).weights
    assert np.allclose(window.weights[..., :16, :16], first, atol=1e-3)
    assert np.allclose(window.weights[..., -1, -16:], truncated.weights[..., -1, :], atol=1e-3)


def test_window_mode_caps_very_long_text():
    model, tok = gpt2(positions=16), SmallTokenizer()
    result = extract_attention(model, tok, "ab" * MAX_WINDOW_TOKENS, overflow="window")
    assert result.weights.shape[-1] == MAX_WINDOW_TOKENS and result.dropped_tokens == MAX_WINDOW_TOKENS


def test_lean_training_gpt_matches_hf_and_keeps_its_mode():
    torch.manual_seed(0)
    lean = LeanGPT(LeanGPTConfig(vocab_size=VOCAB, block_size=32, n_layer=2, n_head=2, n_embd=32)).train()
    hf = gpt2(positions=32)
    hf.load_state_dict(lean.state_dict(), strict=False)
    ours = extract_attention(lean, SmallTokenizer(), TEXT).weights.astype(np.float32)
    theirs = extract_attention(hf, SmallTokenizer(), TEXT).weights.astype(np.float32)
    assert np.allclose(ours, theirs, atol=2e-3)
    assert lean.training


def test_lstm_has_no_attention():
    class TinyLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(4, 4)

        def forward(self, input_ids, state=None):
            return input_ids, state

    with pytest.raises(WorkbenchError, match="LSTM"):
        extract_attention(TinyLSTM(), SmallTokenizer(), TEXT)


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS reset needs Linux /proc")
def test_memory_stays_near_the_float16_result():
    # 24 layers x 4 heads x 512^2: the fp16 result is 48 MB; every layer in fp32 (what
    # output_attentions=True keeps) would be 96 MB more. Converting layer by layer keeps the peak near
    # the result plus a few MB of activations (the bench measures the 12 x 12 x 1024 case).
    model, tok = gpt2(positions=512, layers=24, heads=4, dims=32), SmallTokenizer()
    text = "abcdefgh" * 64
    extract_attention(model, tok, text)  # warm up the allocator at full size (result freed at once)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak
    before = _peak_rss_mb()
    result = extract_attention(model, tok, text)
    grown = _peak_rss_mb() - before
    result_mb = result.weights.nbytes / 2**20
    all_layers_fp32_mb = 2 * result_mb
    assert result_mb == pytest.approx(48, rel=0.01)
    assert grown < result_mb + all_layers_fp32_mb / 4, f"peak grew {grown:.0f} MB"


def test_snapshot_round_trip(tmp_path):
    store = ProjectStore.create(tmp_path / "p.wbproj")
    run_id = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {}, "train_spec": {}, "status": "running",
                                   "dir": "runs/r", "created": now_iso()})
    model, tok = gpt2(), SmallTokenizer()
    probe = "to be or not to be " * 6  # 114 characters: cut to the first 64 tokens
    path = save_attention_snapshot(store, "runs/r", 100, model, tok, probe)
    assert path == store.root / "runs/r/attention/100.npz" and path.exists()
    loaded = load_attention_snapshot(path)
    assert loaded.weights.shape == (2, 2, PROBE_TOKENS, PROBE_TOKENS) and loaded.weights.dtype == np.float16
    assert "".join(loaded.tokens).replace("·", " ") == probe[:PROBE_TOKENS]
    expected = extract_attention(model, tok, probe[:PROBE_TOKENS]).weights
    assert np.array_equal(loaded.weights, expected)
    store.insert("attention_snapshots", snapshot_row(store, run_id, 100, path, probe))
    save_attention_snapshot(store.root, store.root / "runs/r", 200, model, tok, probe)  # file only, no row yet
    snapshots = load_attention_snapshots(store, "r")
    assert [s.step for s in snapshots] == [100, 200] and snapshots[0].probe_text == probe
    assert np.array_equal(snapshots[1].load().weights, expected)
    assert not list((store.root / "runs/r/attention").glob(".tmp-*"))
    store.close()
