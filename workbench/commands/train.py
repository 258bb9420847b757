"""`workbench train` and `workbench export` (DESIGN.md section 5).

`train --json` prints one JSON object per line, each with "event" and "step"; the last line is
{"event": "finished", "step", "run", "status"}. Ctrl-C asks the loop to stop: it saves a checkpoint
and still prints that last line, with status "stopped". torch is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

from workbench.commands.common import add_json_flag, emit, open_project, progress_line, write_text

log = logging.getLogger(__name__)

MODEL_FLAGS = ("arch", "n_layer", "n_head", "n_kv_head", "n_embd", "block_size", "dropout", "tie_embeddings")
TRAIN_FLAGS = ("batch_size", "grad_accum", "lr", "max_steps", "warmup", "eval_interval", "eval_batches", "device", "seed",
               "schedule", "patience", "precision", "keep_checkpoints", "checkpoint_budget_gb")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model on a dataset (or resume a run)")
    p.add_argument("project")
    p.add_argument("--dataset", help="dataset name (not needed with --resume)")
    p.add_argument("--tokenizer", help="tokenizer name; default: the dataset's newest, or a new char tokenizer")
    p.add_argument("--arch", choices=("gpt2", "llama", "bert", "lstm"))
    p.add_argument("--preset", help="a named model size (see the README); explicit flags override it")
    p.add_argument("--n-layer", type=int)
    p.add_argument("--n-head", type=int)
    p.add_argument("--n-kv-head", type=int, help="llama: key/value heads for grouped-query attention (default: --n-head)")
    p.add_argument("--n-embd", type=int)
    p.add_argument("--block-size", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--tie-embeddings", type=_yes_no, metavar="{yes,no}",
                   help="share the output layer's weights with the input embedding (default: yes, as GPT-2)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--grad-accum", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--eval-interval", type=int)
    p.add_argument("--eval-batches", type=int,
                   help="batches of validation windows per evaluation (default 20); 0 = the whole validation split")
    p.add_argument("--schedule", choices=("cosine", "linear", "constant"))
    p.add_argument("--patience", type=int, help="stop after this many evaluations without improvement (0 = off)")
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16", "auto"))
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: chosen by a short probe)")
    p.add_argument("--keep-checkpoints", choices=("auto", "all"),
                   help="checkpoint history: auto (default) keeps every evaluation's checkpoint while they take less "
                        "than --checkpoint-budget-gb, then thins older ones; all keeps every one")
    p.add_argument("--checkpoint-budget-gb", type=float, metavar="X",
                   help="disk budget of the run's checkpoints for --keep-checkpoints auto (default 2; 0 keeps only "
                        "the latest, the best and pinned ones)")
    p.add_argument("--init-from", metavar="PATH_OR_ID", help="fine-tune a pretrained model (local folder or hub id)")
    p.add_argument("--resume", metavar="RUN", help="continue this run from its last checkpoint")
    p.add_argument("--name", help="run name (default: ARCH-DATASET)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("export", help="write a run's checkpoint as a folder transformers' from_pretrained loads")
    p.add_argument("project")
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True, help="a new folder")
    p.add_argument("--checkpoint", default="latest", help="latest, best or a step number")
    add_json_flag(p)
    p.set_defaults(handler=cmd_export)


def _yes_no(text: str) -> bool:
    if text not in ("yes", "no"):
        raise argparse.ArgumentTypeError(f"use yes or no (got {text!r})")
    return text == "yes"


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _model_spec(args: argparse.Namespace):
    from dataclasses import replace

    from workbench.core.base.specs import ModelSpec

    spec = ModelSpec()
    if args.preset:
        from workbench.core.models.presets import apply_preset

        spec = apply_preset(spec, args.preset)
    return replace(spec, **_given(args, MODEL_FLAGS), init_from=args.init_from)


def _train_spec(args: argparse.Namespace):
    from workbench.core.base.specs import TrainSpec

    extra = {"num_threads": args.threads} if args.threads is not None else {}
    return TrainSpec(**_given(args, TRAIN_FLAGS), **extra)


def _ignored_flags(args: argparse.Namespace, run: dict[str, Any]) -> list[str]:
    """Flags given with --resume that differ from the run's specs (only --max-steps can change)."""
    saved = {**run["model_spec"], **run["train_spec"]}
    return [f"--{k.replace('_', '-')}" for k, v in _given(args, TRAIN_FLAGS + MODEL_FLAGS).items()
            if k != "max_steps" and k in saved and saved[k] != v]


def cmd_train(args: argparse.Namespace) -> int:
    from workbench.core.base.errors import InvalidSpecError
    from workbench.core.base.specs import TrainSpec, spec_from_dict
    from workbench.core.ops.run_setup import create_run, prepare_resume
    from workbench.core.ops.training import configure_threads
    from workbench.core.project.run_lock import RunLock

    with open_project(args.project, writes="training") as store, ExitStack() as held:
        printer = _Printer(args)
        lock = None
        if args.resume:  # the run's lock first: a second trainer of the run is refused before it changes anything
            target = store.get_run(args.resume)
            lock = held.enter_context(RunLock(store.root, target["id"], target["name"]))
            run = prepare_resume(store, args.resume, max_steps=args.max_steps, lock=lock)  # no torch work yet
            ignored = _ignored_flags(args, run)
            if ignored:
                progress_line(f"note: a resumed run keeps its settings; ignoring {', '.join(ignored)}")
            configure_threads(spec_from_dict(TrainSpec, run["train_spec"]), headless=True)
        else:
            if not args.dataset:
                raise InvalidSpecError("pass --dataset NAME (or --resume RUN to continue a run)")
            if args.init_from and args.tie_embeddings is not None:
                progress_line("note: a fine-tuned model keeps the pretrained model's own output layer; "
                              "ignoring --tie-embeddings")
            train_spec = _train_spec(args)
            configure_threads(train_spec, headless=True)  # before any torch work (loading a pretrained model included)
            run = printer.drain(create_run(store, dataset=args.dataset, model_spec=_model_spec(args),
                                           train_spec=train_spec, tokenizer=args.tokenizer, name=args.name))
        return _run_training(store, run, args, printer, lock)


def _run_training(store, run: dict[str, Any], args: argparse.Namespace, printer: _Printer, lock=None) -> int:
    from workbench.core.base.errors import WorkbenchError
    from workbench.core.base.events import RunFinished
    from workbench.core.base.specs import TrainSpec, spec_from_dict
    from workbench.core.ops.training import train

    printer.start(run, spec_from_dict(TrainSpec, run["train_spec"]))
    stop = threading.Event()

    def on_sigint(signum, frame):  # first Ctrl-C: stop after this step with a checkpoint; second: abort
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        progress_line("stopping after this step (Ctrl-C again to abort without a checkpoint)")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = printer.drain(train(store, run["id"], resume=bool(args.resume), stop=stop, lock=lock))
    except (WorkbenchError, KeyboardInterrupt):
        raise  # one `error:` line from the CLI (the run row already says failed / stopped)
    except Exception as exc:  # a bug or an unforeseen failure: the run is recorded failed; say so, no traceback
        log.exception("training run %s failed", run["id"])
        row = store.get_run(run["id"])
        result = RunFinished(run_id=run["id"], status="failed", step=row["step"] or 0,
                             message=row["message"] or f"{type(exc).__name__}: {exc}")
    finally:
        signal.signal(signal.SIGINT, previous)
    printer.finished(result, store.get_run(run["id"]))
    return {"finished": 0, "stopped": 130}.get(result.status, 1)


class _Printer:
    """Events as JSON lines (--json) or as progress lines on stderr for people."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(args.json)
        self.step = 0
        self.max_steps = 0
        self.every = 10
        self.last_progress = 0.0

    def start(self, run: dict[str, Any], train_spec) -> None:
        self.max_steps = train_spec.max_steps
        self.every = max(1, min(100, train_spec.eval_interval // 5))
        if not self.json:
            progress_line(f"run {run['id']} {run['name']!r}: {run['arch']}, {train_spec.max_steps} steps, "
                          f"batch {train_spec.batch_size} x {train_spec.grad_accum}, lr {train_spec.lr:g}, "
                          f"device {train_spec.device}")

    def drain(self, gen):
        """Print each event of `gen`; return its result. Closes it on the way out (cancellation)."""
        try:
            while True:
                self.show(next(gen))
        except StopIteration as done:
            return done.value
        finally:
            gen.close()

    def line(self, event: str, **fields: Any) -> None:
        sys.stdout.write(json.dumps({"event": event, "step": self.step, **fields}) + "\n")
        sys.stdout.flush()

    def show(self, ev: Any) -> None:  # noqa: C901 - one branch per event type
        from workbench.core.base import events as E

        step = getattr(ev, "step", None)
        if isinstance(step, int):
            self.step = step
        if isinstance(ev, E.StepLogged):
            if self.json:
                self.line("step", loss=ev.loss, lr=ev.lr, grad_norm=ev.grad_norm, tokens_per_s=ev.tokens_per_s,
                          memory_mb=round(ev.memory_mb, 1))
            elif ev.step % self.every == 0 or ev.step == 1:
                progress_line(f"step {ev.step}/{self.max_steps}  loss {ev.loss:.4f}  lr {ev.lr:.2e}  "
                              f"grad {ev.grad_norm:.2f}  {ev.tokens_per_s / 1000:.1f}k tok/s")
        elif isinstance(ev, E.EvalFinished):
            if self.json:
                self.line("eval", val_loss=ev.val_loss, val_ppl=ev.val_ppl)
            else:
                progress_line(f"step {ev.step}/{self.max_steps}  val loss {ev.val_loss:.4f}  "
                              f"ppl {ev.val_ppl:.2f}{'  (best)' if ev.best else ''}")
        elif isinstance(ev, E.SampleGenerated):
            if self.json:
                self.line("sample", text=ev.text)
            else:
                progress_line(f"  sample: {(ev.prompt + ev.text)!r}")
        elif isinstance(ev, E.CheckpointSaved):
            if self.json:
                self.line("checkpoint", path=ev.path, kind=ev.kind, sha256=ev.sha256)
            else:
                progress_line(f"  checkpoint {ev.path}")
        elif isinstance(ev, E.Notice):
            if self.json:
                self.line("notice", message=ev.message, level=ev.level)
            else:
                progress_line(f"{ev.level}: {ev.message}")
        elif isinstance(ev, E.Progress) and not self.json and time.monotonic() - self.last_progress > 1.0:
            self.last_progress = time.monotonic()
            total = f"/{ev.total}" if ev.total else ""
            progress_line(f"{ev.stage}: {ev.done}{total} {ev.unit}")

    def finished(self, result, run: dict[str, Any]) -> None:
        self.step = result.step
        if self.json:
            self.line("finished", run=run["id"], name=run["name"], status=result.status, message=result.message,
                      best_val_loss=run["best_val_loss"])
            return
        best = f"{run['best_val_loss']:.4f}" if run["best_val_loss"] is not None else "-"
        text = (f"run {run['id']} {run['name']!r} {result.status} at step {result.step}; best val loss {best}"
                + (f"; {result.message}" if result.message else ""))
        write_text(text + "\n")


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.core.ops.export import export_run

    with open_project(args.project) as store:
        info = export_run(store, args.run, Path(args.out), args.checkpoint)
    emit(args, info, f"exported run {info['name']!r} (step {info['step']}) to {info['out']}")
    return 0
