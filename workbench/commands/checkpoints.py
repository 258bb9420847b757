"""`workbench checkpoints PROJECT --run RUN [--pin STEP | --unpin STEP | --delete STEP] [--quick] [--json]`.

Lists a run's checkpoints (step, validation loss, size, pinned, latest/best, and why one cannot be
used) and pins, unpins or deletes one; the listing that follows shows the result. Deleting the
latest, the best or a pinned checkpoint is refused, and so is deleting while the run is trained.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from workbench.commands.common import add_json_flag, emit, open_project
from workbench.core.base.disk import size_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("checkpoints", help="list a run's checkpoints; pin, unpin or delete one")
    p.add_argument("project")
    p.add_argument("--run", required=True)
    action = p.add_mutually_exclusive_group()
    action.add_argument("--pin", type=int, metavar="STEP", help="keep this checkpoint whatever the retention policy")
    action.add_argument("--unpin", type=int, metavar="STEP", help="let the retention policy thin it again")
    action.add_argument("--delete", type=int, metavar="STEP",
                        help="delete this checkpoint (not the latest, the best or a pinned one)")
    p.add_argument("--quick", action="store_true",
                   help="check only that each checkpoint's files are there (skip the sha256 of every file)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_checkpoints)


def cmd_checkpoints(args: argparse.Namespace) -> int:
    from workbench.core.project import checkpoint_history as history
    from workbench.core.project.retention import GB, RetentionPolicy

    writes = ("pinning a checkpoint" if args.pin is not None or args.unpin is not None
              else "deleting a checkpoint" if args.delete is not None else None)
    with open_project(args.project, writes=writes) as store:
        run = store.get_run(args.run)
        done: dict[str, Any] = {}
        if args.pin is not None or args.unpin is not None:
            step = args.pin if args.pin is not None else args.unpin
            history.set_pinned(store, run["id"], step, args.pin is not None)
            done = {"action": "pin" if args.pin is not None else "unpin", "step": step}
        elif args.delete is not None:
            freed = history.delete_checkpoint(store, run["id"], args.delete)
            done = {"action": "delete", "step": args.delete, "freed_bytes": freed}
        infos = history.list_checkpoints(store, run["id"], verify=not args.quick)
        policy = RetentionPolicy.from_train_spec(run["train_spec"] if isinstance(run["train_spec"], dict) else None)
    total = sum(i.size_bytes for i in infos)
    payload = {"run": run["name"], "run_id": run["id"], **done, "total_bytes": total,
               "policy": {"keep": policy.keep, "budget_gb": policy.budget_bytes / GB},
               "checkpoints": [asdict(i) for i in infos]}
    emit(args, payload, _text(run, infos, total, policy.describe(), done))
    return 0


def _text(run: dict[str, Any], infos: list, total: int, policy: str, done: dict[str, Any]) -> str:
    lines = []
    if done:
        what = {"pin": "pinned", "unpin": "unpinned", "delete": "deleted"}[done["action"]]
        freed = f" ({size_text(done['freed_bytes'])} freed)" if "freed_bytes" in done else ""
        lines.append(f"{what} checkpoint {done['step']} of run {run['name']!r}{freed}")
    lines.append(f"run {run['name']!r}: {len(infos)} checkpoint{'s' * (len(infos) != 1)}, {size_text(total)} "
                 f"({policy})")
    if not infos:
        lines.append("no checkpoint yet; they are saved at every evaluation")
    else:
        lines.append(f"{'step':>10}  {'val loss':>9}  {'size':>10}  marks")
    for info in infos:
        marks = [m for m, on in (("latest", info.is_latest), ("best", info.is_best), ("pinned", info.pinned)) if on]
        loss = "-" if info.val_loss is None else f"{info.val_loss:.4f}"
        line = f"{info.step:>10}  {loss:>9}  {size_text(info.size_bytes):>10}  {' '.join(marks)}".rstrip()
        if info.problem:
            line += f"  UNUSABLE: {info.problem}"
        lines.append(line)
    return "\n".join(lines)
