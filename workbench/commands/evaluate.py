"""`workbench evaluate`: the perplexity of a run's checkpoint on its validation split or on a text.

With `--text`, `--json` also lists each token with its loss; the plain output names the tokens
that surprised the model most. It only reads the project (a missing token cache is rebuilt).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict

from workbench.commands.common import add_json_flag, emit, open_project

SURPRISES = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="perplexity of a run's checkpoint on its validation split or a text")
    p.add_argument("project")
    p.add_argument("--run", required=True, help="run name or id")
    p.add_argument("--checkpoint", default="latest", help="latest, best or a step number")
    p.add_argument("--text", help="score this text instead of the validation split")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    add_json_flag(p)
    p.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.commands.data import drive
    from workbench.core.ops.evaluate import evaluate_checkpoint

    with open_project(args.project) as store:
        score = drive(evaluate_checkpoint(store, args.run, args.checkpoint, text=args.text, device=args.device),
                      args.json)
    payload = asdict(score)
    payload["token_losses"] = [None if math.isnan(x) else round(x, 4) for x in score.token_losses]
    text = (f"run {score.run!r} at step {score.step}: {score.source} loss {score.loss:.4f}, perplexity "
            f"{score.perplexity:.2f} over {score.tokens:,} tokens")
    if score.token_losses:
        scored = [(loss, i) for i, loss in enumerate(score.token_losses) if not math.isnan(loss)]
        worst = sorted(scored, reverse=True)[:SURPRISES]
        text += "\nmost surprising: " + ", ".join(f"{score.token_texts[i]!r} {loss:.2f}" for loss, i in worst)
    emit(args, payload, text)
    return 0
