"""Attention extraction: time for 256 tokens and peak memory for 1024 tokens on a GPT-2-small shape.

    python bench/bench_attention.py

The model is `GPT2LMHeadModel` built from a config (12 layers, 12 heads, 768 dims, 50257 tokens;
random weights, which do not change the cost). Goals: 256 tokens extracted in under 1 s; 1024
tokens x 12 layers x 12 heads in under 500 MB above the loaded model. For reference it also
measures transformers' own route (`output_attentions=True`, all layers kept in fp32, then converted),
and the cost of one training snapshot (`save_attention_snapshot`, 64-token probe) on the tiny
4 x 4 x 128 model. Peak memory is the process's peak RSS (Linux `/proc`, reset before each
measurement) minus the RSS before it. Timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from workbench.core.attention.extraction import extract_attention
from workbench.core.attention.snapshots import save_attention_snapshot


class ByteTokenizer:
    eos_token_id = None
    mask_token_id = None

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids) -> str:
        return bytes(ids).decode("utf-8", errors="replace")

    def token_text(self, token_id: int) -> str:
        return bytes([token_id]).decode("latin-1")


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_above_now(run) -> tuple[float, object]:
    """Run `run()`, return (peak RSS growth in MB, its result)."""
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    before = rss_mb("VmRSS")
    result = run()
    return rss_mb("VmHWM") - before, result


def hf_route(model, ids: list[int]) -> np.ndarray:
    model.set_attn_implementation("eager")
    with torch.inference_mode():
        out = model(torch.tensor([ids]), output_attentions=True)
    model.set_attn_implementation("sdpa")
    return np.stack([a[0].to(torch.float16).numpy() for a in out.attentions])


def main() -> None:
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=12, n_head=12, n_embd=768, n_positions=1024)).eval()
    tok = ByteTokenizer()
    text = (Path(__file__).resolve().parents[1].parent / "shared/data/tinyshakespeare.txt")
    source = text.read_text(encoding="utf-8")[:4000] if text.exists() else "To be or not to be. " * 200
    print(f"GPT-2 12 x 12 x 768 from config; torch threads {torch.get_num_threads()}")

    short = source[:256]
    extract_attention(model, tok, short)  # warm up
    times = []
    for _ in range(5):
        start = time.perf_counter()
        result = extract_attention(model, tok, short)
        times.append(time.perf_counter() - start)
    print(f"256 tokens: extraction {statistics.median(times) * 1000:.0f} ms median of 5 "
          f"(best {min(times) * 1000:.0f} ms), result {result.weights.nbytes / 2**20:.0f} MB float16 (goal < 1 s)")

    long = source[:1024]
    if sys.platform.startswith("linux"):
        grown, result = peak_above_now(lambda: extract_attention(model, tok, long))
        print(f"1024 tokens: peak memory +{grown:.0f} MB above the loaded model, result "
              f"{result.weights.nbytes / 2**20:.0f} MB float16 (goal < 500 MB)")
        del result
        grown, _ = peak_above_now(lambda: hf_route(model, tok.encode(long)))
        print(f"1024 tokens via output_attentions=True (reference): peak +{grown:.0f} MB")
    start = time.perf_counter()
    extract_attention(model, tok, long)
    print(f"1024 tokens: extraction {(time.perf_counter() - start) * 1000:.0f} ms")

    tiny = GPT2LMHeadModel(GPT2Config(n_layer=4, n_head=4, n_embd=128, n_positions=64, vocab_size=256)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        save_attention_snapshot(tmp, "run", 0, tiny, tok, source)
        costs = []
        for step in range(1, 21):
            start = time.perf_counter()
            save_attention_snapshot(tmp, "run", step, tiny, tok, source)
            costs.append(time.perf_counter() - start)
        size = (Path(tmp) / "run/attention/20.npz").stat().st_size
    print(f"training snapshot (4 x 4 x 128, 64-token probe): {statistics.median(costs) * 1000:.1f} ms median of 20, "
          f"{size / 1024:.0f} KB on disk (goal < 50 ms)")


if __name__ == "__main__":
    main()
