"""Benchmark: dataset import, then char and byte-level BPE (4k) tokenisation, against plain `tokenizers`.

    python bench/bench_import.py            # tinyshakespeare and a generated 100 MB text
    python bench/bench_import.py --small    # tinyshakespeare only (quick)

Each stage runs in its own subprocess so its peak resident memory (resource.getrusage ru_maxrss,
which includes the interpreter and libraries) is its own. Stages, on each text:

  import         workbench.core.data.importer.import_dataset -> train.txt / val.txt
  char-train     collect the character vocabulary of train.txt, save tokenizer files
  char-cache     ours: build_token_cache (numpy code point table) -> train.bin
  char-ref       reference: tokenizers.Tokenizer(tokenizer.json).encode_batch over lines, 1 MB batches
  bpe-train      ours: train_tokenizer (byte-level BPE, 4096 tokens), streamed, with progress
  bpe-train-ref  reference: tokenizers' own Tokenizer.train(files=[train.txt]) with the same trainer
  bpe-cache      ours: build_token_cache (encode_batch over exact-cut pieces) -> train.bin
  bpe-ref        reference: encode_batch over lines, 1 MB batches

"x ref" is our MB/s over the reference's (goal >= 0.9). Timings on a shared 2-core machine are
noisy; run twice before believing a difference of a few percent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
BPE_VOCAB = 4096
REFERENCE_BATCH_BYTES = 1 << 20
STAGES = ["import", "char-train", "char-cache", "char-ref", "bpe-train", "bpe-train-ref", "bpe-cache", "bpe-ref"]
EXTRA_LINES = ["東京の春は桜がきれいです。", "Ünïcödé façade, naïve café — “quotes”", "emoji 👍🏽 👨‍👩‍👧 🎉",
               "Ελληνικά και русский текст", "\tindented\twith tabs"]


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def drain(gen):
    """Run a core generator to its end; its return value."""
    from workbench.core.base.events import run_to_end  # imported late: each stage measures its own memory

    return run_to_end(gen)[1]


def reference_encode(tokenizer_json: Path, text_path: Path) -> int:
    """The plain way: lines in ~1 MB batches through Tokenizer.encode_batch, ids into numpy."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    count = 0
    with open(text_path, encoding="utf-8", newline="") as handle:
        while lines := handle.readlines(REFERENCE_BATCH_BYTES):
            encodings = tok.encode_batch(lines, add_special_tokens=False)
            ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.uint32)
            count += len(ids)
    return count


def run_stage(stage: str, source: Path, work: Path) -> dict:
    """Runs in the child process; returns the figures of one stage."""
    from workbench.core.base.specs import DatasetSpec, TokenizerSpec
    from workbench.core.data.importer import import_dataset
    from workbench.core.data.token_cache import build_token_cache
    from workbench.core.tokenizers.tokenizer import load_tokenizer, train_tokenizer

    dataset = work / "dataset"
    train_text = dataset / "train.txt"
    started = time.perf_counter()
    tokens = None
    if stage == "import":
        drain(import_dataset([source], DatasetSpec(name="bench"), dataset))
        measured = source
    elif stage in ("char-train", "bpe-train"):
        kind = stage.split("-")[0]
        spec = TokenizerSpec(name=kind, kind=kind, vocab_size=BPE_VOCAB)
        tokens = drain(train_tokenizer(spec, train_text, work / kind)).vocab_size
        measured = train_text
    elif stage == "bpe-train-ref":
        from tokenizers import pre_tokenizers, trainers

        from workbench.core.tokenizers.bpe import new_bpe_backend

        trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=2, show_progress=False,
                                      special_tokens=["<|endoftext|>", "[MASK]"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        backend = new_bpe_backend()
        backend.train([str(train_text)], trainer)
        tokens = backend.get_vocab_size()
        measured = train_text
    elif stage.endswith("-cache"):
        tok = load_tokenizer(work / stage.split("-")[0])
        tokens = drain(build_token_cache(tok, train_text, work / f"{stage}.bin"))
        measured = train_text
    elif stage.endswith("-ref"):
        tokens = reference_encode(work / stage.split("-")[0] / "tokenizer.json", train_text)
        measured = train_text
    else:
        raise SystemExit(f"unknown stage {stage}")
    seconds = time.perf_counter() - started
    megabytes = measured.stat().st_size / 1e6
    return {"stage": stage, "seconds": seconds, "mb": megabytes, "mb_per_s": megabytes / seconds,
            "tokens": tokens, "peak_mb": peak_rss_mb()}


def generate_text(path: Path, megabytes: int, seed: int = 0) -> None:
    """Shakespeare-like text: words drawn by their frequency, lines of 3-14 words, a few non-Latin lines."""
    words, counts = np.unique(np.array(SHAKESPEARE.read_text(encoding="utf-8").split()), return_counts=True)
    rng = np.random.default_rng(seed)
    probabilities = counts / counts.sum()
    target = megabytes * 1_000_000
    written = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        while written < target:
            drawn = words[rng.choice(len(words), size=200_000, p=probabilities)]
            lengths = rng.integers(3, 15, size=len(drawn) // 3)
            lines, start = [], 0
            for length in lengths:
                if start + length > len(drawn):
                    break
                lines.append(" ".join(drawn[start:start + length]))
                start += length
                if rng.random() < 0.01:
                    lines.append(EXTRA_LINES[int(rng.integers(len(EXTRA_LINES)))])
                if rng.random() < 0.1:
                    lines.append("")
            block = "\n".join(lines) + "\n"
            handle.write(block)
            written += len(block.encode("utf-8"))


def run_all(label: str, source: Path, work: Path) -> list[dict]:
    results = []
    for stage in STAGES:
        command = [sys.executable, __file__, "--stage", stage, "--source", str(source), "--work", str(work)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"[{label}] {stage} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            raise SystemExit(1)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"  [{label}] {stage:<14} {result['seconds']:7.2f} s  {result['mb_per_s']:7.2f} MB/s  "
              f"peak {result['peak_mb']:6.0f} MB", flush=True)
    return results


def report(label: str, results: list[dict]) -> None:
    by = {r["stage"]: r for r in results}
    print(f"\n{label}: {by['import']['mb']:.1f} MB source, train.txt {by['char-cache']['mb']:.1f} MB")
    print(f"  {'stage':<14}{'s':>8}{'MB/s':>9}{'peak MB':>9}{'tokens':>13}{'x ref':>7}")
    pairs = {"char-cache": "char-ref", "bpe-cache": "bpe-ref", "bpe-train": "bpe-train-ref"}
    for stage in STAGES:
        r = by[stage]
        ratio = f"{r['mb_per_s'] / by[pairs[stage]]['mb_per_s']:.2f}" if stage in pairs else ""
        tokens = f"{r['tokens']:,}" if r["tokens"] is not None else ""
        print(f"  {stage:<14}{r['seconds']:8.2f}{r['mb_per_s']:9.2f}{r['peak_mb']:9.0f}{tokens:>13}{ratio:>7}")
    for ours, ref in (("char-cache", "char-ref"), ("bpe-cache", "bpe-ref")):
        if by[ours]["tokens"] != by[ref]["tokens"]:
            print(f"  WARNING: {ours} made {by[ours]['tokens']} tokens, {ref} {by[ref]['tokens']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="tinyshakespeare only")
    parser.add_argument("--megabytes", type=int, default=100, help="size of the generated text (default 100)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.source, args.work)))
        return
    if not SHAKESPEARE.exists():
        raise SystemExit(f"{SHAKESPEARE} is missing; the benchmark needs it")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    root = Path(tempfile.mkdtemp(prefix="wb-bench-import-"))
    try:
        report("tinyshakespeare", run_all("shakespeare", SHAKESPEARE, root / "shakespeare"))
        if not args.small:
            generated = root / f"generated-{args.megabytes}mb.txt"
            started = time.perf_counter()
            generate_text(generated, args.megabytes)
            print(f"\ngenerated {generated.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
            report(f"generated {args.megabytes} MB", run_all("generated", generated, root / "generated"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
