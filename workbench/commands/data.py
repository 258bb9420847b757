"""`workbench import` and `workbench tokenizer`: put data and tokenizers into a project."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Generator
from typing import Any

from workbench.commands.common import add_json_flag, emit, open_project, printable, progress_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import text files, a folder, JSONL, CSV or Parquet as a dataset")
    p.add_argument("project")
    p.add_argument("files", nargs="*", metavar="FILE", help="files or folders to import")
    p.add_argument("--name", help="dataset name (unique in the project)")
    p.add_argument("--format", default="auto", choices=["auto", "txt", "md", "jsonl", "csv", "parquet", "folder"])
    p.add_argument("--field", help="JSONL key / CSV or Parquet column holding the text (default: text)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share held out for validation (default 0.1)")
    p.add_argument("--seed", type=int, default=1337, help="seed of the train/validation split")
    p.add_argument("--replace-invalid", action="store_true", help="replace undecodable bytes instead of failing")
    p.add_argument("--encoding", default="auto", metavar="NAME",
                   help="text encoding of the files: auto (a byte-order mark, else UTF-8; the default), utf-8, "
                        "utf-16, cp1252, latin-1 or any Python codec name")
    p.add_argument("--no-nfc", action="store_true", help="keep the text's Unicode normalisation as it is")
    p.add_argument("--keep-newlines", action="store_true", help="keep \\r\\n and \\r line ends as they are")
    p.add_argument("--strip", action="store_true", help="strip whitespace around each document, drop empty ones")
    p.add_argument("--sample", help="import a built-in sample instead of files: toy-stories, copy-task, addition")
    add_json_flag(p)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("tokenizer", help="train a tokenizer on a dataset (or copy a pretrained one)")
    p.add_argument("project")
    p.add_argument("--dataset", required=True, help="dataset whose training split trains the tokenizer")
    p.add_argument("--kind", required=True, choices=["char", "bpe", "pretrained"])
    p.add_argument("--vocab-size", type=int, default=4096, help="BPE vocabulary size (default 4096)")
    p.add_argument("--min-frequency", type=int, default=2, help="BPE: minimum pair frequency (default 2)")
    p.add_argument("--source", help="pretrained: a local Hugging Face folder or a hub id")
    p.add_argument("--special-tokens", default="",
                   help="char/bpe: extra special tokens, comma separated (e.g. '<|user|>,<|bot|>'); "
                        "<|endoftext|> and [MASK] are always there")
    p.add_argument("--name", required=True, help="tokenizer name (unique in the project)")
    add_json_flag(p)
    p.set_defaults(handler=cmd_tokenizer)


def drive(gen: Generator[Any, None, Any], quiet: bool = False) -> Any:
    """Run a core generator to completion.

    Progress is shown on an interactive terminal only (one rewritten line), so that a failure in a
    script prints exactly one `error:` line. Notices (skipped files...) are printed once it succeeded.
    """
    from workbench.core.base.events import Notice, Progress

    show = not quiet and sys.stderr.isatty()
    notices: list[Notice] = []
    last = 0.0
    try:
        while True:
            event = next(gen)
            if isinstance(event, Notice):
                notices.append(event)
            elif isinstance(event, Progress) and show and time.monotonic() - last > 0.2:
                last = time.monotonic()
                total = f"/{event.total:,}" if event.total else ""
                sys.stderr.write("\r\x1b[K" + printable(f"{event.stage}: {event.done:,}{total} {event.unit}"))
                sys.stderr.flush()
    except StopIteration as stop:
        result = stop.value
    finally:
        if show:
            sys.stderr.write("\r\x1b[K")
        gen.close()  # on Ctrl-C the core's finally blocks remove partial files
    for notice in notices:
        progress_line(f"{notice.level}: {notice.message}")
    return result


def cmd_import(args: argparse.Namespace) -> int:
    from workbench.core.base.errors import WorkbenchError
    from workbench.core.base.specs import DatasetSpec
    from workbench.core.ops.catalog import import_into_project, import_sample

    if args.sample and args.files:
        raise WorkbenchError("give either FILE... or --sample, not both")
    if not args.sample and not args.files:
        raise WorkbenchError("nothing to import: give one or more files or folders, or --sample NAME")
    if not args.sample and not args.name:
        raise WorkbenchError("the dataset needs a name: add --name NAME")
    with open_project(args.project, writes="importing") as store:
        if args.sample:
            row = drive(import_sample(store, args.sample, name=args.name, val_fraction=args.val_fraction), args.json)
        else:
            spec = DatasetSpec(name=args.name, format=args.format, field=args.field, val_fraction=args.val_fraction,
                               seed=args.seed, replace_invalid=args.replace_invalid, normalize_newlines=not args.keep_newlines,
                               nfc=not args.no_nfc, strip=args.strip,
                               encoding=args.encoding)
            row = drive(import_into_project(store, args.files, spec), args.json)
    stats = row["stats"]
    payload = {"dataset": {k: row[k] for k in ("id", "name", "format", "train_chars", "val_chars", "documents", "sha256")},
               "stats": stats}
    text = (f"imported {row['name']!r} ({row['format']}): {row['documents']} documents, "
            f"{row['train_chars']:,} train + {row['val_chars']:,} validation characters, "
            f"{stats.get('unique_characters', '?')} distinct characters")
    if stats.get("skipped_count"):
        text += f"; {stats['skipped_count']:,} files skipped (--json lists them with the reason)"
    emit(args, payload, text)
    return 0


def cmd_tokenizer(args: argparse.Namespace) -> int:
    from workbench.core.base.specs import TokenizerSpec
    from workbench.core.ops.catalog import create_tokenizer

    extra = tuple(t.strip() for t in args.special_tokens.split(",") if t.strip())
    spec = TokenizerSpec(name=args.name, kind=args.kind, vocab_size=args.vocab_size,
                         min_frequency=args.min_frequency, source=args.source,
                         special_tokens=(*TokenizerSpec(name=args.name, kind=args.kind).special_tokens, *extra))
    spec.validate()
    with open_project(args.project, writes="making a tokenizer") as store:
        row = drive(create_tokenizer(store, args.dataset, spec), args.json)
        dataset = store.get_dataset(args.dataset)
        cache = store.get_token_cache(dataset["id"], row["id"])
    payload = {"tokenizer": {k: row[k] for k in ("id", "name", "kind", "vocab_size")},
               "cache": {k: cache[k] for k in ("dtype", "train_tokens", "val_tokens")} if cache else None}
    text = f"tokenizer {row['name']!r} ({row['kind']}): vocabulary {row['vocab_size']:,}"
    if args.kind == "bpe" and row["vocab_size"] < args.vocab_size:
        progress_line(f"info: the text yields only {row['vocab_size']:,} tokens at --min-frequency "
                      f"{args.min_frequency}, fewer than the {args.vocab_size:,} asked for")
    if cache:
        ratio = dataset["train_chars"] / max(1, cache["train_tokens"])
        text += f"; {cache['train_tokens']:,} training tokens ({ratio:.2f} characters per token)"
    emit(args, payload, text)
    return 0
