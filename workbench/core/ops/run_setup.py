"""Creating a run and preparing a resume: every check happens before the first write.

`create_run` validates the specs, the dataset, the tokenizer, the device and a pretrained source,
and only then (creating a char tokenizer first if the dataset has none) inserts the run row with
status "queued". `prepare_resume` verifies a checkpoint before it raises `max_steps`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.events import Notice, Progress
from workbench.core.base.specs import ModelSpec, TokenizerSpec, TrainSpec, spec_from_dict, spec_to_dict
from workbench.core.project.checkpoints import resume_checkpoint
from workbench.core.project.run_lock import RunLock, refuse_if_trained
from workbench.core.project.store import ProjectStore, now_iso


def latest_tokenizer_of(store: ProjectStore, dataset_id: int) -> dict[str, Any] | None:
    rows = store.query("SELECT id FROM tokenizers WHERE dataset_id = ? ORDER BY id DESC LIMIT 1", (dataset_id,))
    return store.get_tokenizer(rows[0]["id"]) if rows else None


def _free_name(store: ProjectStore, table: str, stem: str) -> str:
    if not store.name_taken(table, stem):
        return stem
    n = 2
    while store.name_taken(table, f"{stem}-{n}"):
        n += 1
    return f"{stem}-{n}"


def pretrained_spec(source: str) -> ModelSpec:
    """The ModelSpec of a pretrained model (reads its config only), for checks before a run."""
    from workbench.core.models.pretrained import load_pretrained

    _, spec = load_pretrained(source)
    return replace(spec, init_from=source)


def check_device(device: str, precision: str = "fp32") -> None:
    """The device exists and the precision suits it (raises a WorkbenchError that says what to use)."""
    from workbench.core.base.devices import choose_device, resolve_precision

    resolve_precision(choose_device(device), precision)


def _check_enough_tokens(store: ProjectStore, dataset_row: dict[str, Any], tokenizer_row: dict[str, Any],
                         block_size: int) -> None:
    """With the token cache already built, a context longer than the training split is bad input."""
    cache = store.get_token_cache(dataset_row["id"], tokenizer_row["id"])
    if cache is not None and cache["train_tokens"] < block_size + 1:
        raise InvalidSpecError(f"dataset {dataset_row['name']!r} has {cache['train_tokens']} training tokens, fewer "
                               f"than one window of --block-size + 1 = {block_size + 1}; use a smaller --block-size")


def _pretrained_tokenizer(store: ProjectStore, dataset_row: dict[str, Any],
                          source: str) -> Generator[Progress | Notice, None, dict[str, Any]]:
    """The project's pretrained tokenizer from `source` (fine-tuning needs the model's own), made if missing."""
    from workbench.core.ops.catalog import create_tokenizer

    for row in reversed(store.list_tokenizers()):
        if row["kind"] == "pretrained" and str((row.get("spec") or {}).get("source")) == str(source):
            return row
    stem = Path(str(source).rstrip("/\\")).name or "pretrained"
    spec = TokenizerSpec(name=_free_name(store, "tokenizers", f"{stem}-tokenizer"), kind="pretrained", source=str(source))
    yield Notice(f"using the tokenizer of {source} (saved in the project as {spec.name!r})", level="info")
    return (yield from create_tokenizer(store, dataset_row["name"], spec))


def create_run(store: ProjectStore, *, dataset: str, model_spec: ModelSpec, train_spec: TrainSpec,
               tokenizer: str | None = None, name: str | None = None) -> Generator[Progress | Notice, None, dict[str, Any]]:
    """Validate everything, then insert a queued run; returns the run row."""
    from workbench.core.models.modeling import validate_against
    from workbench.core.ops.catalog import create_tokenizer, load_project_tokenizer, verified_tokenizer_sha256
    from workbench.core.training.estimates import require_fit

    train_spec.validate()
    model_spec.validate()
    dataset_row = store.get_dataset(dataset)
    tokenizer_row = store.get_tokenizer(tokenizer) if tokenizer else latest_tokenizer_of(store, dataset_row["id"])
    if name is not None:
        if not name.strip():
            raise InvalidSpecError("the run name is empty; pass --name NAME or leave it out")
        if store.name_taken("runs", name):
            raise WorkbenchError(_name_taken(name))
    check_device(train_spec.device, train_spec.precision)
    pretrained_positions = None
    if source := model_spec.init_from:
        pretrained = pretrained_spec(source)
        pretrained_positions = pretrained.block_size
        model_spec = replace(pretrained, dropout=model_spec.dropout, block_size=model_spec.block_size)
        if not tokenizer:  # automatic: the model's own tokenizer, made once per project
            tokenizer_row = yield from _pretrained_tokenizer(store, dataset_row, source)
        if tokenizer_row is None or tokenizer_row["kind"] != "pretrained":
            raise InvalidSpecError(
                f"fine-tuning from {model_spec.init_from} needs its own tokenizer: create it with `workbench "
                f"tokenizer PROJECT --dataset {dataset_row['name']} --kind pretrained --source "
                f"{model_spec.init_from} --name NAME` and pass --tokenizer NAME")
    if tokenizer_row is None:
        spec = TokenizerSpec(name=_free_name(store, "tokenizers", f"{dataset_row['name']}-char"), kind="char")
        yield Notice(f"dataset {dataset_row['name']!r} has no tokenizer yet; creating a character tokenizer "
                     f"{spec.name!r}", level="info")
        tokenizer_row = yield from create_tokenizer(store, dataset_row["name"], spec)
    verified_tokenizer_sha256(store, tokenizer_row)  # a replaced tokenizer.json is refused before a run row exists
    tok = load_project_tokenizer(store, tokenizer_row)
    if not model_spec.init_from:
        model_spec = replace(model_spec, vocab_size=tok.vocab_size)
    validate_against(model_spec, vocab_size=tok.vocab_size, pretrained_positions=pretrained_positions)
    if model_spec.arch == "bert" and tok.mask_token_id is None:
        raise InvalidSpecError(f"BERT learns by filling in [MASK] tokens, and tokenizer {tokenizer_row['name']!r} "
                               "has none: use a tokenizer made by LM Workbench (char or bpe)")
    _check_enough_tokens(store, dataset_row, tokenizer_row, model_spec.block_size)
    require_fit(model_spec, train_spec, train_spec.device)  # an out-of-memory kill would leave a run row behind
    stem = f"{model_spec.arch}-{dataset_row['name']}"
    tmp, final = store.new_artifact_dir("runs")
    store.commit_artifact_dir(tmp, final)
    try:
        run_id = _insert_run(store, name, stem, {
            "dataset_id": dataset_row["id"], "tokenizer_id": tokenizer_row["id"],
            "arch": model_spec.arch, "model_spec": spec_to_dict(model_spec), "train_spec": spec_to_dict(train_spec),
            "status": "queued", "step": 0, "dir": store.relative(final), "created": now_iso(),
        })
    except BaseException:
        final.rmdir()
        raise
    return store.get_run(run_id)


def _name_taken(name: str) -> str:
    return (f"a run named {name!r} already exists in this project: choose another --name or continue it "
            f"with --resume {name}")


def _insert_run(store: ProjectStore, name: str | None, stem: str, row: dict[str, Any]) -> int:
    """Insert the run row named `name` (or the first free name from `stem`). A process beside this one
    may take the name between the check and the insert: its UNIQUE constraint then becomes the same
    message as the check's, or, for a name chosen here, the next free name."""
    for _ in range(10):
        run_name = name or _free_name(store, "runs", stem)
        try:
            return store.insert("runs", {"name": run_name, **row})
        except WorkbenchError:
            if not store.name_taken("runs", run_name):
                raise  # not the name: some other failure
            if name is not None:
                raise WorkbenchError(_name_taken(name)) from None
    raise WorkbenchError(f"could not find a free run name starting with {stem!r}; pass --name NAME")


def prepare_resume(store: ProjectStore, run_key: str | int, max_steps: int | None = None,
                   lock: RunLock | None = None) -> dict[str, Any]:
    """Check that `run_key` can be resumed (no live process trains it, a checkpoint verifies); raise
    max_steps. `lock`: the run's lock, when the caller already holds it for the training to come."""
    run = store.get_run(run_key)
    if lock is None or not lock.held:
        refuse_if_trained(store.root, run["id"], run["name"])
    if run["dataset_id"] is None or run["tokenizer_id"] is None:
        raise WorkbenchError(f"run {run['name']!r} cannot be resumed: its dataset or tokenizer was deleted")
    store.path(run["dir"], "checkpoints", what=f"the folder of run {run['name']!r}")  # confined before any write
    found = resume_checkpoint(store, run)  # verifies it; None: no checkpoint yet, `train` starts it over
    step = found[0]["step"] if found is not None else 0
    spec = spec_from_dict(TrainSpec, run["train_spec"])
    if max_steps is not None and max_steps != spec.max_steps:
        if max_steps < step:
            raise InvalidSpecError(f"--max-steps {max_steps} is below the step {step} this run resumes "
                                   f"from; pass a larger --max-steps")
        spec = replace(spec, max_steps=max_steps)
        spec.validate()
        store.update("runs", run["id"], train_spec=spec_to_dict(spec))
    return store.get_run(run["id"])
