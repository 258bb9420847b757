"""Issue 11, point 10: every numeric flag of every command has a range, checked before anything is
written. A value outside it exits 2 with one `error:` line that names the flag and leaves the project
as it was; a value inside it runs (exit 0). The flags are read from the parser itself, so a new
numeric flag is fuzzed (and needs a range in `specs.LIMITS`) without touching this file.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from cli_helpers import project_digest, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import build_parser, main
from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import LIMITS, DatasetSpec, ModelSpec, SampleSpec, TrainSpec
from workbench.core.project.store import ProjectStore

TINY = ["--device", "cpu", "--n-layer", "1", "--n-head", "1", "--n-embd", "8", "--block-size", "8",
        "--batch-size", "2", "--max-steps", "1", "--eval-interval", "1", "--eval-batches", "1"]
# Allowed values above these would be slow (a real run, generation or BPE training), not wrong: the
# fuzz keeps its allowed values below them and tests the upper bound itself from outside.
CHEAP = {"--max-new-tokens": 4, "--num-samples": 2, "--max-steps": 2, "--n-layer": 2, "--n-embd": 32,
         "--n-head": 4, "--n-kv-head": 4, "--block-size": 16, "--batch-size": 8, "--grad-accum": 2,
         "--eval-batches": 2, "--threads": 2, "--vocab-size": 400}
EXTREMES = [-1, 2**31, 2**63, 2**64, -(2**63)]
NAMES = itertools.count()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A dataset, a char tokenizer and one 2-step run named "tiny"; documents for `import`."""
    root = tmp_path_factory.mktemp("fuzz") / "p.wbproj"
    words = root.parent / "words.txt"
    words.write_text("\n".join(f"the king speaks to his men {i % 7} and they answer." for i in range(300)) + "\n")
    (root.parent / "docs.jsonl").write_text("".join(json.dumps({"text": f"document {i} " * 5}) + "\n" for i in range(3)))
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(words), "--name", "words"]) == 0
    assert main(["tokenizer", str(root), "--dataset", "words", "--kind", "char", "--name", "chars"]) == 0
    assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", *TINY, "--max-steps", "2",
                 "--name", "tiny", "--json"]) == 0
    return root


def base_args(command: str, root: Path) -> list[str]:
    name = f"fuzz{next(NAMES)}"
    return {
        "import": ["import", root, root.parent / "docs.jsonl", "--name", name],
        "tokenizer": ["tokenizer", root, "--dataset", "words", "--kind", "bpe", "--name", name],
        "train": ["train", root, "--dataset", "words", "--tokenizer", "chars", *TINY, "--name", name],
        "generate": ["generate", root, "--run", "tiny", "--prompt", "the", "--max-new-tokens", "2"],
        "attention": ["attention", root, "--run", "tiny", "--text", "the king", "--json"],
        "checkpoints": ["checkpoints", root, "--run", "tiny", "--quick"],  # --pin, --unpin, --delete STEP
    }[command]


def numeric_flags() -> dict[str, list[tuple[str, type]]]:
    """{command: [(flag, int or float)]} for every option the parser converts to a number."""
    sub = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    found: dict[str, list[tuple[str, type]]] = {}
    for command, parser in sub.choices.items():
        for action in parser._actions:
            kind = getattr(action.type, "__name__", "")
            if kind in ("int", "float"):
                found.setdefault(command, []).append((max(action.option_strings, key=len), int if kind == "int" else float))
    return found


FLAGS = numeric_flags()


def test_every_numeric_flag_has_a_range_and_is_fuzzed():
    assert set(FLAGS) == {"import", "tokenizer", "train", "generate", "attention", "checkpoints"}
    assert all(flag in LIMITS for flags in FLAGS.values() for flag, _ in flags)
    assert ("--seed", int) in FLAGS["train"] and ("--temperature", float) in FLAGS["generate"]


def values(flag: str, kind: type) -> st.SearchStrategy[str]:
    limit = LIMITS[flag]
    if kind is int:
        low, high = int(limit.low), int(limit.high)
        cheap = min(high, CHEAP.get(flag, high))
        return st.one_of(st.integers(low, cheap), st.integers(max_value=low - 1), st.integers(min_value=high + 1),
                         st.sampled_from([low - 1, high + 1, *EXTREMES]),
                         ).map(str) | st.sampled_from(["", "1.5", "0x10", "many"])
    cheap_high = min(limit.high, CHEAP.get(flag, limit.high))
    return st.one_of(st.floats(limit.low, cheap_high), st.floats(), st.floats(limit.low, limit.high),
                     ).map(repr) | st.sampled_from(["inf", "-inf", "nan", "1e309", "-0.0", "5e-324", "1e-300", "x"])


@st.composite
def settings_for(draw, command: str) -> list[str]:
    flags = draw(st.lists(st.sampled_from(FLAGS[command]), min_size=1, max_size=2, unique=True))
    return [part for flag, kind in flags for part in (flag, draw(values(flag, kind)))]


def check(capsys, root: Path, argv: list) -> None:
    before = project_digest(root)
    threads = torch.get_num_threads()
    try:
        code, _, err = run_cli(capsys, *argv)
    finally:
        torch.set_num_threads(threads)  # --threads is process-wide; later examples must not inherit it
    assert code in (0, 2), f"{argv}: exit {code}\n{err}"
    assert "Traceback" not in err, err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), err
        assert project_digest(root) == before, f"{argv} changed the project"


FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@pytest.mark.parametrize("command", sorted(numeric_flags()))
def test_numeric_flags_fuzz(project, capsys, command):
    @FUZZ
    @given(extra=settings_for(command))
    def run(extra: list[str]) -> None:
        check(capsys, project, [*base_args(command, project), *extra])

    run()


@pytest.mark.parametrize("command, extra, flag", [
    ("train", ["--seed", "-1"], "--seed"),
    ("train", ["--seed", str(2**63)], "--seed"),
    ("train", ["--threads", str(2**31)], "--threads"),
    ("train", ["--n-embd", str(10**8)], "--n-embd"),
    ("train", ["--n-layer", str(10**8)], "--n-layer"),
    ("train", ["--batch-size", str(10**11)], "--batch-size"),
    ("train", ["--eval-batches", str(10**11)], "--eval-batches"),
    ("train", ["--grad-accum", str(10**11)], "--grad-accum"),
    ("generate", ["--temperature", "inf"], "--temperature"),
    ("generate", ["--temperature", "1e309"], "--temperature"),
    ("generate", ["--temperature", "1e-300"], "--temperature"),
    ("generate", ["--repetition-penalty", "1e-300"], "--repetition-penalty"),
    ("generate", ["--num-samples", str(2**31)], "--num-samples"),
    ("generate", ["--seed", str(2**64)], "--seed"),
    ("import", ["--seed", "-1"], "--seed"),
])
def test_the_numbers_that_crashed_or_hung(project, capsys, command, extra, flag):
    before = project_digest(project)
    code, _, err = run_cli(capsys, *base_args(command, project), *extra)
    assert code == 2 and err.startswith(f"error: argument {flag}: must be") and len(err.strip().splitlines()) == 1, err
    assert project_digest(project) == before


def test_a_model_too_big_for_memory_is_refused_before_its_run_row(project, capsys):
    """--n-embd 65536 is in range but needs terabytes: no "failed" or "queued" row is left behind."""
    before = project_digest(project)
    code, _, err = run_cli(capsys, *base_args("train", project), "--n-embd", 65536)
    assert code == 2 and "needs about" in err and "--n-embd" in err and len(err.strip().splitlines()) == 1, err
    assert project_digest(project) == before
    with ProjectStore.open(project) as store:
        assert {r["status"] for r in store.list_runs()} == {"finished"}


def test_the_specs_check_the_same_ranges_for_the_window_and_the_core():
    for spec, flag in ((TrainSpec(seed=-1), "--seed"), (TrainSpec(num_threads=2**31), "--threads"),
                       (TrainSpec(batch_size=10**9), "--batch-size"), (ModelSpec(n_layer=10**8), "--n-layer"),
                       (SampleSpec(temperature=float("inf")), "--temperature"), (SampleSpec(num_samples=2**31), "--num-samples"),
                       (SampleSpec(seed=2**64), "--seed"), (DatasetSpec(name="d", seed=-1), "--seed"),
                       (TrainSpec(lr=float("nan")), "--lr")):
        with pytest.raises(InvalidSpecError, match=f"^{flag} must be"):
            spec.validate()
    SampleSpec(temperature=0).validate()  # greedy stays allowed below the 0.01 floor
    TrainSpec(seed=2**32 - 1, num_threads=0, eval_batches=0).validate()

