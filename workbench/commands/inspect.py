"""`workbench generate` and `workbench attention` (DESIGN.md section 5).

`generate` streams the text to stdout as it is produced (flushed per token); with `--json` it prints
one document: the samples, each with its text and per-token entries (token, id, prob, alternatives,
logprob_total). Each sample is saved as a row of `generations`, after generation has finished,
so an interrupted or failed command leaves the project as it was. A BERT run with `[MASK]` in the
prompt fills the blanks instead.

`attention` prints the weights as JSON (`--json`), draws a PNG (`--png FILE`: one head with
--layer and --head, else a grid of the heads selected), or prints a short summary. It only reads
the project. torch and transformers are imported inside the handlers, so `--help` stays quick.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.commands.common import add_json_flag, emit, open_project, progress_line, write_text
from workbench.core.base.specs import SampleSpec

# The defaults are SampleSpec's, the same the playground starts from; the flags default to None
# so that only what the user typed is passed to SampleSpec (and the help shows its defaults).
SAMPLE_DEFAULTS = SampleSpec()

VIEWS = ("auto", "head", "grid", "lines", "scores")

SAMPLE_FLAGS = ("max_new_tokens", "temperature", "top_k", "top_p", "min_p", "repetition_penalty", "seed",
                "num_samples")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="sample text from a run's checkpoint (or fill [MASK] for BERT)")
    _common(p)
    p.add_argument("--prompt", required=True, help="text to continue; for BERT runs, text with [MASK]")
    p.add_argument("--max-new-tokens", type=int, help=f"default {SAMPLE_DEFAULTS.max_new_tokens}")
    p.add_argument("--temperature", type=float, help=f"0 = greedy; default {SAMPLE_DEFAULTS.temperature}")
    p.add_argument("--top-k", type=int, help="keep the k most likely tokens (0 = off)")
    p.add_argument("--top-p", type=float, help="nucleus: keep the most likely tokens up to this probability")
    p.add_argument("--min-p", type=float, help="drop tokens below this fraction of the top probability")
    p.add_argument("--repetition-penalty", type=float, help="above 1 discourages repeating tokens")
    p.add_argument("--stop", action="append", default=[], help="stop when this text appears (repeatable)")
    p.add_argument("--seed", type=int, help="same seed and settings give the same text (default: random)")
    p.add_argument("--num-samples", type=int, help="how many samples to draw (default 1)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_generate)

    p = sub.add_parser("attention", help="attention weights of a run's checkpoint for a text")
    _common(p)
    p.add_argument("--text", required=True)
    p.add_argument("--layer", type=int, help="only this layer (0-based)")
    p.add_argument("--head", type=int, help="only this head (0-based)")
    p.add_argument("--overflow", choices=("truncate", "window"), default="truncate",
                   help="text longer than the context: keep its last block (truncate) or slide a window")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON document with the weights")
    out.add_argument("--png", metavar="FILE",
                     help="write a figure: PNG, or SVG if FILE ends in .svg (see --view)")
    p.add_argument("--view", choices=VIEWS, default="auto",
                   help="what --png draws: auto (one head with --layer and --head, else a grid), head, grid, "
                        "lines (the head view of --layer, its --head or every head) or scores (every head's "
                        "induction, previous-token, first-token and entropy scores, as the window's Scores tab)")
    p.set_defaults(handler=cmd_attention)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("project")
    p.add_argument("--run", required=True, help="run name or id")
    p.add_argument("--checkpoint", default="latest", help="latest, best or a step number")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))


# ---- generate ------------------------------------------------------------------------------------

def _sample_spec(args: argparse.Namespace):
    from workbench.core.base.errors import InvalidSpecError

    if args.prompt == "":
        raise InvalidSpecError("--prompt is empty; give the text the model should continue")
    given = {k: getattr(args, k) for k in SAMPLE_FLAGS if getattr(args, k) is not None}
    spec = SampleSpec(**given, stop=tuple(args.stop))
    if spec.seed is None:  # draw one here, so the saved settings can reproduce the text
        spec = replace(spec, seed=secrets.randbelow(2**31))
    spec.validate()
    return spec


def cmd_generate(args: argparse.Namespace) -> int:
    from workbench.core.base.specs import spec_to_dict
    from workbench.core.inference.generation import MASK_TEXT
    from workbench.core.inference.models import is_masked_lm, load_checkpoint_for_inference
    from workbench.core.project.generations import save_generations

    spec = _sample_spec(args)
    with open_project(args.project) as store:
        loaded = load_checkpoint_for_inference(store, args.run, args.checkpoint, device=args.device)
        if is_masked_lm(loaded.model):
            result = _fill_mask(loaded, args, MASK_TEXT)
            texts, settings = [result["text"]], {"mode": "fill-mask", "top_k": result["top_k"]}
        else:
            result = _stream(loaded, args, spec)
            texts, settings = [s["text"] for s in result["samples"]], {"mode": "generate", **spec_to_dict(spec)}
        if store.read_only:
            progress_line("note: the project is read-only, so this generation is not saved in its history")
        else:
            save_generations(store, loaded.run["id"], loaded.step, args.prompt, settings, texts)
    if args.json:
        emit(args, {"run": loaded.run["name"], "checkpoint": loaded.step, "prompt": args.prompt,
                    "settings": settings, **result}, "")
    return 0


def _stream(loaded, args: argparse.Namespace, spec) -> dict[str, Any]:
    from workbench.core.inference.generation import generate

    samples: list[dict[str, Any]] = [{"text": "", "tokens": []} for _ in range(spec.num_samples)]
    gen = generate(loaded.model, loaded.tokenizer, args.prompt, spec)
    try:
        while True:
            try:
                event = next(gen)
            except StopIteration as done:
                texts = done.value
                break
            samples[event.sample]["tokens"].append({
                "token": event.text, "id": event.token_id, "prob": round(event.prob, 6),
                "alternatives": [[text, round(p, 6)] for text, p in event.alternatives],
                "logprob_total": round(event.logprob_total, 6)})
            if not args.json:
                _show_piece(event, spec.num_samples, args.prompt)
    finally:
        gen.close()
    for sample, text in zip(samples, texts, strict=True):
        sample["text"] = text
        sample["logprob_total"] = sample["tokens"][-1]["logprob_total"] if sample["tokens"] else 0.0
    if not args.json:
        write_text("\n")
    return {"mode": "generate", "samples": samples}


def _show_piece(event, num_samples: int, prompt: str) -> None:
    """One token's text; a model from a shared project could emit terminal escapes: `write_text`."""
    head = ""
    if event.index == 0:
        if event.sample > 0:
            head += "\n"
        if num_samples > 1:
            head += f"--- sample {event.sample + 1} of {num_samples} ---\n"
        head += prompt
    write_text(head + event.text)


def _fill_mask(loaded, args: argparse.Namespace, mask_text: str) -> dict[str, Any]:
    from workbench.core.base.errors import InvalidSpecError
    from workbench.core.inference.generation import fill_mask

    if mask_text not in args.prompt:
        raise InvalidSpecError(f"run {loaded.run['name']!r} is a BERT (masked) model: it fills blanks instead of "
                               f"continuing text; put {mask_text} in --prompt, e.g. 'To be or {mask_text} to be'")
    top_k = args.top_k or 5
    masks = fill_mask(loaded.model, loaded.tokenizer, args.prompt, top_k=top_k)
    text = args.prompt
    for candidates in masks:  # the best guess for each blank, in order
        text = text.replace(mask_text, candidates[0][0].replace("·", " ").replace("⏎", "\n"), 1)
    if not args.json:
        lines = [text] + [f"[MASK] {i + 1}: " + "  ".join(f"{t!r} {p:.3f}" for t, p in candidates)
                          for i, candidates in enumerate(masks)]
        write_text("\n".join(lines) + "\n")
    return {"mode": "fill-mask", "top_k": top_k, "text": text,
            "masks": [[[t, round(p, 6)] for t, p in candidates] for candidates in masks]}


# ---- attention -----------------------------------------------------------------------------------

def _selection(count: int, chosen: int | None, what: str) -> list[int]:
    from workbench.core.base.errors import InvalidSpecError

    if chosen is None:
        return list(range(count))
    if not 0 <= chosen < count:
        raise InvalidSpecError(f"--{what} {chosen} does not exist: this model has {count} {what}s (0 to {count - 1})")
    return [chosen]


def cmd_attention(args: argparse.Namespace) -> int:
    import numpy as np

    from workbench.core.attention.extraction import extract_attention
    from workbench.core.base.errors import InvalidSpecError
    from workbench.core.inference.models import load_checkpoint_for_inference

    if not args.text:
        raise InvalidSpecError("--text is empty; give the text whose attention you want to see")
    if args.view != "auto" and not args.png:
        raise InvalidSpecError(f"--view {args.view} chooses what --png draws; add --png FILE")
    with open_project(args.project) as store:
        loaded = load_checkpoint_for_inference(store, args.run, args.checkpoint, device=args.device)
    result = extract_attention(loaded.model, loaded.tokenizer, args.text, overflow=args.overflow)
    layers = _selection(result.layers, args.layer, "layer")
    heads = _selection(result.heads, args.head, "head")
    weights = result.weights[np.ix_(layers, heads)]
    if result.notice:
        progress_line(f"note: {result.notice}")
    title = f"{loaded.run['name']} step {loaded.step}"
    if args.png:
        scores = None
        if args.view == "scores":  # the model's scores, as the window's Scores tab computes them
            from workbench.core.attention.head_scores import head_scores

            scores = head_scores(loaded.model, loaded.tokenizer, args.text)
        _write_png(Path(args.png), weights, result.tokens, title, layers, heads, args.view, scores)
    payload = {"run": loaded.run["name"], "checkpoint": loaded.step, "text": args.text,
               "tokens": list(result.tokens), "token_ids": list(result.token_ids),
               "layers": result.layers, "heads": result.heads, "layer_indices": layers, "head_indices": heads,
               "causal": result.causal, "dropped_tokens": result.dropped_tokens, "notice": result.notice,
               "weights": np.round(weights.astype(np.float32), 4).tolist()}
    if args.json:
        emit(args, payload, "")
    elif args.png:
        write_text(f"wrote {args.png}\n")
    else:
        entropy = result.entropy()
        lines = [f"{title}: {len(result.tokens)} tokens, {result.layers} layers x {result.heads} heads",
                 "mean attention entropy (nats) per head, low = focused:"]
        lines += [f"  layer {i}: " + "  ".join(f"{e:.2f}" for e in row) for i, row in enumerate(entropy)]
        lines.append("use --json for the weights or --png FILE for a heatmap")
        write_text("\n".join(lines) + "\n")
    return 0


def _figure(view: str, weights, tokens, title: str, layers: list[int], heads: list[int], scores):
    """The figure `--view` asks for (DESIGN.md section 5: one head with --layer/--head, else a grid)."""
    from workbench.core.attention.figures import render_grid, render_head
    from workbench.core.attention.views import render_lines, render_scores
    from workbench.core.base.errors import InvalidSpecError

    if view == "auto":
        view = "head" if len(layers) == 1 and len(heads) == 1 else "grid"
    if view == "head":
        if len(layers) != 1 or len(heads) != 1:
            raise InvalidSpecError("--view head draws one head: give --layer and --head")
        return render_head(weights[0, 0], tokens, f"{title} · layer {layers[0]} · head {heads[0]}")
    if view == "lines":
        if len(layers) != 1:
            raise InvalidSpecError("--view lines draws the heads of one layer: give --layer")
        return render_lines(weights[0], tokens, f"{title} · layer {layers[0]}", heads)
    if view == "scores":
        return render_scores(scores, f"{title} · head scores")
    return render_grid(weights, title, layer_ids=layers, head_ids=heads, tokens=tokens)


def _write_png(path: Path, weights, tokens, title: str, layers: list[int], heads: list[int], view: str = "auto",
               scores=None) -> None:
    """The `--view` figure as a PNG (an SVG when `path` ends in .svg); a note names characters no
    font has. `weights` is the selection of `layers` x `heads`; `scores` every head's `HeadScores`."""
    from workbench.core.attention.figures import missing_glyphs, save_figure
    from workbench.core.base.errors import WorkbenchError

    figure = _figure(view, weights, tokens, title, layers, heads, scores)
    missing = missing_glyphs([title, *tokens])
    if missing:
        sys.stderr.write(f"note: no installed font can draw {missing[:20]!r}, shown as boxes; "
                         "install a font that covers them (Noto Sans CJK for Chinese, Japanese, Korean)\n")
    try:
        save_figure(figure, path)
    except OSError as exc:
        raise WorkbenchError(f"cannot write {path}: {exc.strerror}; choose a writable --png path") from exc
