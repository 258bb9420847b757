"""The window's words for the command line's.

Core messages are written for the command line: they name flags ("use a smaller --block-size") and
commands ("create one with `workbench new PATH`"). In the window those words point nowhere, so
`for_window` says the same in the labels the window shows ("use a smaller context", "create one
with File > New Project"). The core keeps its words: the command line is its first reader.
"""

from __future__ import annotations

import re

# Flag -> what the window calls that setting, lower case (the words sit mid-sentence). Every flag a
# core message names must be here: tests/ui/test_wording.py checks it against the core's strings.
FLAG_WORDS: dict[str, str] = {
    # the model form (Model panel)
    "--arch": "architecture",
    "--preset": "preset",
    "--n-layer": "layers",
    "--n-head": "attention heads",
    "--n-kv-head": "key/value heads",
    "--n-embd": "embedding size",
    "--block-size": "context",
    "--dropout": "dropout",
    "--lr": "learning rate",
    "--warmup": "warmup",
    "--batch-size": "batch size",
    "--grad-accum": "gradient accumulation",
    "--max-steps": "steps",
    "--eval-interval": "evaluation interval",
    "--eval-batches": "evaluation batches",
    "--patience": "early stopping",
    "--threads": "CPU threads",
    "--precision": "precision",
    "--device": "device",
    "--seed": "seed",
    "--tokenizer": "tokenizer",
    "--dataset": "dataset",
    "--init-from": "pretrained model",
    "--resume": "resume",
    "--keep-checkpoints": "checkpoint history",
    "--checkpoint-budget-gb": "checkpoint disk budget",
    # the playground
    "--max-new-tokens": "tokens",
    "--temperature": "temperature",
    "--top-k": "top-k",
    "--top-p": "top-p",
    "--min-p": "min-p",
    "--repetition-penalty": "repetition penalty",
    "--num-samples": "samples",
    "--prompt": "prompt",
    # the import dialog and the tokenizer form
    "--name": "name",
    "--format": "format",
    "--field": "field / column",
    "--encoding": "encoding",
    "--replace-invalid": "replace invalid bytes",
    "--val-fraction": "validation share",
    "--kind": "kind",
    "--vocab-size": "vocabulary",
    "--min-frequency": "minimum frequency",
    "--source": "source",
    # commands without a panel field
    "--text": "a text",
    "--layer": "layer",
    "--head": "head",
    "--out": "export folder",
    "--checkpoint": "checkpoint",
    "--pin": "Pin checkpoint",
    "--unpin": "Unpin checkpoint",
    "--delete": "Delete checkpoint",
    "--quick": "quick check",
    "--csv": "Export CSV",
    "--run": "run",
    "--json": "JSON output",
}

# Whole phrases that read badly word for word; matched before single flags.
PHRASES: tuple[tuple[str, str], ...] = (
    (r"pass --name NAME or leave it out", "give it a name or leave it empty"),
    (r"pass --name NAME", "type a name"),
    (r"choose another --name", "choose another name"),
    (r"continue it with --resume \S+", "resume it from the Training panel"),
    (r"and pass --tokenizer NAME", "and choose it as the tokenizer"),
    (r"needs --source PATH_OR_ID", "needs a source"),
    (r"add --replace-invalid", "tick \u201cReplace invalid bytes\u201d"),
    (r"import it with --encoding ([\w-]+) \(([^)]+)\)", r"choose Encoding: \2 (\1)"),  # the import dialog's item
    (r"lower --lr\b", "lower the learning rate"),
    (r"a longer --text", "a longer text"),
    (r" \(--text\)", ""),
)

# `workbench COMMAND ...` -> where the window does the same.
COMMAND_PLACES: dict[str, str] = {
    "new": "File > New Project",
    "import": "the Data panel's Import Data button",
    "tokenizer": "the Data panel's Tokenizers tab",
    "train": "the Model panel's Start Training button",
    "generate": "the Playground",
    "attention": "the Attention panel",
    "export": "File > Export Run",
    "runs": "the Training panel's list of runs",
    "checkpoints": "the Training panel's checkpoints of the run",
}

_COMMAND = re.compile(r"`workbench (\w+)[^`]*`")
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)(?: (?:NAME|PATH|PATH_OR_ID|N|X|FILE|DIR|TEXT)\b)?")


def for_window(message: str) -> str:
    """`message` with command-line flags and commands in the window's words."""
    message = _COMMAND.sub(_command_place, message)
    for pattern, words in PHRASES:
        message = re.sub(pattern, words, message)
    return _FLAG.sub(_flag_words, message)


def _command_place(match: re.Match[str]) -> str:
    return COMMAND_PLACES.get(match.group(1), match.group(0))


def _flag_words(match: re.Match[str]) -> str:
    return FLAG_WORDS.get(f"--{match.group(1)}", match.group(0))
