"""`workbench new` and `workbench runs`."""

from __future__ import annotations

import argparse

from workbench.commands.common import add_json_flag, emit, open_project
from workbench.core.project.store import ProjectStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="create a project folder")
    p.add_argument("project")
    add_json_flag(p)
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("runs", help="list the project's datasets, tokenizers and runs")
    p.add_argument("project")
    add_json_flag(p)
    p.set_defaults(handler=cmd_runs)


def cmd_new(args: argparse.Namespace) -> int:
    with ProjectStore.create(args.project) as store:
        emit(args, {"project": str(store.root), "schema": store.schema_version()}, f"created project {store.root}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    with open_project(args.project) as store:
        runs = [{k: r[k] for k in ("id", "name", "arch", "status", "step", "best_val_loss", "created", "message")}
                for r in store.list_runs()]
        datasets = [{k: d[k] for k in ("id", "name", "format", "train_chars", "val_chars", "documents")}
                    for d in store.list_datasets()]
        tokenizers = [{k: t[k] for k in ("id", "name", "kind", "vocab_size")} for t in store.list_tokenizers()]
    lines = [f"{r['id']:>4}  {r['name']:<16} {r['arch']:<6} {r['status']:<12} step {r['step']:<7} "
             f"best val {_loss(r['best_val_loss'])}" for r in runs]
    text = "\n".join(lines) if lines else "no runs yet"
    emit(args, {"runs": runs, "datasets": datasets, "tokenizers": tokenizers}, text)
    return 0


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
