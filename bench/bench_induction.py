"""When do induction heads appear? Trains on the built-in copy-task sample and scores every checkpoint.

    python bench/bench_induction.py                          # tiny preset as Llama, up to 15 minutes
    python bench/bench_induction.py --arch gpt2 --minutes 40  # the tiny preset as it comes (GPT-2)
    python bench/bench_induction.py --keep-going              # keep training after the first head

Everything goes through the command line as a user would: `workbench new`, `import --sample copy-task`,
`tokenizer --kind char`, then `workbench train --json` in a child process. At each `checkpoint` event
this process loads the checkpoint and computes the head scores as the window's Scores tab does
(`core.attention.head_scores`) with three fresh copy-task lines as the text: induction on random
characters repeated twice, and on the lines' repeats (where the copy task copies: after its ' | ').
It prints one row: step, minutes, steps/s, validation loss, the best induction score on the copy
lines and on random characters (layer.head), and the heads at or over the threshold (0.3). The run
stops (SIGINT: a clean stop with a checkpoint) at the first induction head, unless --keep-going, or
when --minutes or --steps run out. The last line is the finding: "induction heads appear at step N
(M minutes on this CPU)" or "no induction head by step N".

Why Llama by default: its rotary positions make the previous-token head an induction head builds on
easy to learn; GPT-2's learned absolute positions make it slow (see the note of issue 15 for the
steps each needed here). Timings on a shared machine vary with its load; steps/s is printed so
another CPU can scale them.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from workbench.core.attention.head_scores import head_scores
from workbench.core.attention.scores import INDUCTION_THRESHOLD, HeadScores
from workbench.core.inference.models import load_checkpoint_for_inference
from workbench.core.project.store import ProjectStore
from workbench.core.samples.tasks import copy_lines

RUN_NAME = "induction"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--project", type=Path, help="a project folder to create (default: a temporary one)")
    p.add_argument("--arch", default="llama", choices=("gpt2", "llama"))
    p.add_argument("--preset", default="tiny")
    p.add_argument("--tie-embeddings", default="yes", choices=("yes", "no"))
    p.add_argument("--n-layer", type=int)
    p.add_argument("--n-head", type=int)
    p.add_argument("--n-embd", type=int)
    p.add_argument("--block-size", type=int, help="default: the preset's (tiny: 64, room for a copy-task line)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--schedule", default="constant", help="constant: a cosine decay would slow the late steps")
    p.add_argument("--steps", type=int, default=5000, help="--max-steps of the run")
    p.add_argument("--eval-interval", type=int, default=100)
    p.add_argument("--threads", type=int, default=1, help="torch threads of the training process")
    p.add_argument("--minutes", type=float, default=15.0, help="stop the run after this long")
    p.add_argument("--keep-going", action="store_true", help="keep training after the first induction head")
    p.add_argument("--seed", type=int, default=1337)
    return p.parse_args(argv)


def workbench(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "workbench", *args], check=True, stdout=subprocess.DEVNULL)


def make_project(folder: Path) -> None:
    workbench("new", str(folder))
    workbench("import", str(folder), "--sample", "copy-task", "--name", "copy")
    workbench("tokenizer", str(folder), "--dataset", "copy", "--kind", "char", "--name", "char")


def train_command(args: argparse.Namespace, folder: Path) -> list[str]:
    cmd = [sys.executable, "-m", "workbench", "train", str(folder), "--dataset", "copy", "--tokenizer", "char",
           "--arch", args.arch, "--preset", args.preset, "--tie-embeddings", args.tie_embeddings, "--batch-size", str(args.batch_size),
           "--lr", str(args.lr), "--schedule", args.schedule, "--max-steps", str(args.steps),
           "--eval-interval", str(args.eval_interval), "--eval-batches", "4", "--threads", str(args.threads),
           "--keep-checkpoints", "all", "--seed", str(args.seed), "--name", RUN_NAME, "--json"]
    for flag, value in (("--n-layer", args.n_layer), ("--n-head", args.n_head), ("--n-embd", args.n_embd),
                        ("--block-size", args.block_size)):
        if value is not None:  # after --preset: the explicit size wins
            cmd += [flag, str(value)]
    return cmd


def copy_probe(lines: int = 3, seed: int = 12345) -> str:
    """Three copy-task lines made by the sample's own rule, from a seed of their own (not lines trained on)."""
    made = copy_lines(random.Random(seed))
    return "".join(next(made) for _ in range(lines))


def score_checkpoint(folder: Path, step: int, probe: str) -> tuple[HeadScores, str, str]:
    """The checkpoint's head scores on `probe`, and 'score layer.head' of the best text and random induction."""
    store = ProjectStore.open(folder)
    try:
        loaded = load_checkpoint_for_inference(store, RUN_NAME, str(step))
        scores = head_scores(loaded.model, loaded.tokenizer, probe)
    finally:
        store.close()
    return scores, best(scores.text_induction), best(scores.random_induction)


def best(values: np.ndarray | None) -> str:
    if values is None:
        return "-"
    layer, head = divmod(int(values.argmax()), values.shape[1])
    return f"{values.max():.2f} {layer}.{head}"


def watch(args: argparse.Namespace, folder: Path) -> tuple[int | None, float, int]:
    """Run training, score each checkpoint; (first step with an induction head, its minutes, last step)."""
    proc = subprocess.Popen(train_command(args, folder), stdout=subprocess.PIPE, text=True)
    start, val_loss, found, found_min, last, stopping = time.perf_counter(), float("nan"), None, 0.0, 0, False
    probe = copy_probe()
    print(f"{'step':>6} {'min':>6} {'steps/s':>7} {'val loss':>8} {'on copy lines':>13} {'on random':>11}  "
          f"heads >= {INDUCTION_THRESHOLD}", flush=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        minutes = (time.perf_counter() - start) / 60
        if event["event"] == "eval":
            val_loss = event["val_loss"]
        elif event["event"] == "checkpoint":
            last = int(event["step"])
            scores, on_text, on_random = score_checkpoint(folder, last, probe)
            heads = scores.induction_heads()
            shown = ", ".join(f"{layer}.{head} {score:.2f}" for layer, head, score in heads) or "-"
            print(f"{last:>6} {minutes:>6.2f} {last / (minutes * 60):>7.2f} {val_loss:>8.3f} {on_text:>13} "
                  f"{on_random:>11}  {shown}", flush=True)
            if heads and found is None:
                found, found_min = last, minutes
        elif event["event"] == "finished":
            break
        if not stopping and ((found is not None and not args.keep_going) or minutes >= args.minutes):
            proc.send_signal(signal.SIGINT)  # the command's clean stop: one more checkpoint, then finished
            stopping = True
    proc.wait()
    return found, found_min, last


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)  # scoring shares the CPU with the training process
    with tempfile.TemporaryDirectory(prefix="wb-induction-") as tmp:
        folder = args.project or Path(tmp) / "induction.wbproj"
        make_project(folder)
        sizes = f"{args.n_layer or '-'}x{args.n_head or '-'}x{args.n_embd or '-'}"
        print(f"copy-task, char tokenizer, {args.arch}, preset {args.preset}, tied {args.tie_embeddings} "
              f"(layers x heads x dims override {sizes}), context {args.block_size or 'of the preset'}, "
              f"batch {args.batch_size}, lr {args.lr} {args.schedule}, "
              f"{args.threads} thread(s)", flush=True)
        found, minutes, last = watch(args, folder)
    if found is None:
        print(f"no induction head (>= {INDUCTION_THRESHOLD}) by step {last}")
        return 1
    print(f"induction heads appear at about step {found} ({minutes:.1f} minutes on this CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
