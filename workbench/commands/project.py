"""`workbench new` and `workbench runs`."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.commands.common import add_json_flag, emit, open_project
from workbench.core.base.disk import size_text
from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.project.store import ProjectStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="create a project folder")
    p.add_argument("project")
    add_json_flag(p)
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("runs", help="list the project's datasets, tokenizers and runs (with the disk each run takes)")
    p.add_argument("project")
    p.add_argument("--run", help="only this run")
    p.add_argument("--csv", metavar="FILE", help="with --run: write every recorded metric series of the run as CSV "
                                                  "(a step column, then one column per series)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_runs)


def cmd_new(args: argparse.Namespace) -> int:
    with ProjectStore.create(args.project) as store:
        emit(args, {"project": str(store.root), "schema": store.schema_version()}, f"created project {store.root}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    if args.csv is not None and not args.run:
        raise InvalidSpecError("--csv writes the metrics of one run: pass --run RUN too")
    with open_project(args.project) as store:
        if args.csv is not None:
            return _write_csv(args, store)
        rows = [store.get_run(args.run)] if args.run else store.list_runs()
        runs = [{**{k: r[k] for k in ("id", "name", "arch", "status", "step", "best_val_loss", "created", "message")},
                 "size_bytes": _disk_usage(store, r)} for r in rows]
        datasets = [{k: d[k] for k in ("id", "name", "format", "train_chars", "val_chars", "documents")}
                    for d in store.list_datasets()]
        tokenizers = [{k: t[k] for k in ("id", "name", "kind", "vocab_size")} for t in store.list_tokenizers()]
    lines = [f"{r['id']:>4}  {r['name']:<16} {r['arch']:<6} {r['status']:<12} step {r['step']:<7} "
             f"best val {_loss(r['best_val_loss'])}  size {_size(r['size_bytes'])}" for r in runs]
    text = "\n".join(lines) if lines else "no runs yet"
    emit(args, {"runs": runs, "datasets": datasets, "tokenizers": tokenizers}, text)
    return 0


def _disk_usage(store: ProjectStore, run: dict) -> int | None:
    """Bytes of the run's folder; None when its folder cannot be measured (a row pointing out of the project)."""
    from workbench.core.project.checkpoint_history import run_disk_usage

    try:
        return run_disk_usage(store, run["id"])
    except WorkbenchError:
        return None


def _size(size: int | None) -> str:
    return "-" if size is None else size_text(size)


def _write_csv(args: argparse.Namespace, store: ProjectStore) -> int:
    from workbench.core.project.metrics_export import write_metrics_csv

    run = store.get_run(args.run)
    columns, rows = write_metrics_csv(store, run["id"], args.csv)
    out = str(Path(args.csv).expanduser().absolute())
    emit(args, {"run": run["name"], "csv": out, "rows": rows, "columns": columns},
         f"wrote {rows} rows of run {run['name']!r} ({', '.join(columns)}) to {out}")
    return 0


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
