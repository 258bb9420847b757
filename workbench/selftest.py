"""`workbench --self-test`: a headless end-to-end check of the whole engine, exit 0 on success.

It drives the real command line in-process (the `main` that `workbench.cli` passes in, so this
module never imports the command line back) on a temporary project: sample import, a character
tokenizer, 30 training steps of the smallest model, generation, attention and export (loaded back
with transformers). Each stage prints one line with its figures, so a failure says where it broke.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Main = Callable[[list[str]], int]  # workbench.cli.main


def _cli(main: Main, *args: Any) -> str:
    """Run one `workbench` command in-process; return its stdout or raise with its error line."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    if code != 0:
        raise RuntimeError(f"`workbench {' '.join(map(str, args))}` exited {code}: {err.getvalue().strip()[-400:]}")
    return out.getvalue()


def _stage(name: str, action: Callable[[], str], report: list[dict[str, Any]], quiet: bool) -> None:
    started = time.perf_counter()
    entry: dict[str, Any] = {"stage": name, "ok": False}
    report.append(entry)
    summary = action()
    entry.update(ok=True, seconds=round(time.perf_counter() - started, 2), detail=summary)
    if not quiet:
        print(f"  ok  {name:<10} {entry['seconds']:6.1f} s  {summary}", flush=True)


def run_self_test(main: Main, as_json: bool = False) -> int:
    """Run every stage through the command line's `main`; with `as_json`, print one JSON document
    {"passed", "stages": [...]} instead."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    report: list[dict[str, Any]] = []
    code = _run_stages(functools.partial(_cli, main), report, quiet=as_json)
    if as_json:
        print(json.dumps({"passed": code == 0, "stages": report}, indent=2), flush=True)
    return code


def _run_stages(cli: Callable[..., str], report: list[dict[str, Any]], quiet: bool) -> int:
    if not quiet:
        print("LM Workbench self-test", flush=True)
    with tempfile.TemporaryDirectory(prefix="wb-selftest-") as tmp:
        project = Path(tmp) / "selftest.wbproj"
        state: dict[str, Any] = {}

        def new() -> str:
            cli("new", project)
            return str(project)

        def import_sample() -> str:
            doc = json.loads(cli("import", project, "--sample", "toy-stories", "--name", "stories", "--json"))
            return f"{doc['dataset']['train_chars']:,} training characters"

        def tokenizer() -> str:
            doc = json.loads(cli("tokenizer", project, "--dataset", "stories", "--kind", "char", "--name", "chars", "--json"))
            return f"vocabulary {doc['tokenizer']['vocab_size']}, {doc['cache']['train_tokens']:,} tokens"

        def train() -> str:
            out = cli("train", project, "--dataset", "stories", "--tokenizer", "chars", "--preset", "nano",
                      "--max-steps", 30, "--eval-interval", 15, "--batch-size", 8, "--device", "cpu", "--json")
            events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            finished = events[-1]
            if finished.get("event") != "finished" or finished.get("status") != "finished":
                raise RuntimeError(f"training ended with {finished}")
            losses = [e["loss"] for e in events if e.get("event") == "step"]
            evals = [e["val_loss"] for e in events if e.get("event") == "eval"]
            state["run"] = finished["run"]
            return f"loss {losses[0]:.2f} -> {losses[-1]:.2f}, val loss {evals[-1]:.2f}"

        def generate() -> str:
            doc = json.loads(cli("generate", project, "--run", state["run"], "--prompt", "Once upon a time",
                                 "--max-new-tokens", 40, "--temperature", 0, "--json"))  # greedy: the KV cache path
            tokens = doc["samples"][0]["tokens"]
            if not tokens or not all(0 < t["prob"] <= 1 for t in tokens):
                raise RuntimeError("generation returned no tokens with probabilities")
            ended = ", then the model ended the text" if len(tokens) < 40 else ""
            return f"{len(tokens)} token{'s' if len(tokens) != 1 else ''} generated (greedy){ended}"

        def attention() -> str:
            png = Path(tmp) / "attention.png"
            cli("attention", project, "--run", state["run"], "--text", "Once upon a time", "--png", png)
            if png.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
                raise RuntimeError("attention did not write a PNG")
            return f"heatmap {png.stat().st_size:,} bytes"

        def export() -> str:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            out = Path(tmp) / "export"
            cli("export", project, "--run", state["run"], "--out", out)
            tok = AutoTokenizer.from_pretrained(out, trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(out, trust_remote_code=False)
            ids = tok("Once upon a time", return_tensors="pt").input_ids
            with torch.no_grad():
                loss = model(ids, labels=ids).loss.item()
            return f"reloaded with transformers, loss on a line {loss:.2f}"

        stages = [("project", new), ("import", import_sample), ("tokenizer", tokenizer), ("train", train),
                  ("generate", generate), ("attention", attention), ("export", export)]
        for name, action in stages:
            try:
                _stage(name, action, report, quiet)
            except Exception as exc:  # report which stage broke, then fail
                report[-1]["error"] = str(exc)
                print(f"  FAIL {name}: {exc}", file=sys.stderr, flush=True)
                return 1
    if not quiet:
        print("self-test passed", flush=True)
    return 0
