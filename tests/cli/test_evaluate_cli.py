"""`workbench evaluate`: perplexity of a checkpoint on the validation split or a text, per-token losses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cli_helpers import make_runs_project, project_digest, run_cli

from workbench.core.project.store import ProjectStore


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project with a char tokenizer and three finished 4-step runs: gpt2, bert, lstm."""
    return make_runs_project(tmp_path_factory.mktemp("evaluate-cli") / "p.wbproj")


@pytest.mark.parametrize("run", ["gpt2", "lstm", "bert"])
def test_validation_perplexity_matches_what_training_logged(project, capsys, run):
    code, out, err = run_cli(capsys, "evaluate", project, "--run", run, "--json")
    assert code == 0, err
    doc = json.loads(out)
    with ProjectStore.open(project) as store:
        row = store.get_run(run)
        val_tokens = store.query("SELECT val_tokens FROM token_caches")[0]["val_tokens"]
    assert doc["source"] == "validation" and doc["step"] == 4 and doc["tokens"] == val_tokens
    assert doc["perplexity"] == pytest.approx(math.exp(doc["loss"]))
    # training logged its loss on a fixed sample of validation windows; every token is scored here
    assert doc["loss"] == pytest.approx(row["best_val_loss"], abs=0.25)


def test_a_text_gets_each_token_scored(project, capsys):
    code, out, err = run_cli(capsys, "evaluate", project, "--run", "gpt2", "--text", "the king speaks", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["source"] == "text" and doc["tokens"] == len("the king speaks")
    assert doc["token_texts"][:3] == ["t", "h", "e"] and doc["token_losses"][0] is None
    losses = doc["token_losses"][1:]
    assert all(x > 0 for x in losses)
    assert doc["loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-4)  # the same tokens, one window
    code, out, _ = run_cli(capsys, "evaluate", project, "--run", "gpt2", "--text", "the king speaks")
    assert code == 0 and "perplexity" in out and "most surprising" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--run", "nope"], "no run named 'nope'"),
    (["--run", "gpt2", "--checkpoint", 3], "no checkpoint at step 3"),
    (["--run", "gpt2", "--text", "t"], "shorter than 2 tokens"),
])
def test_bad_input_exits_2_and_changes_nothing(project, capsys, args, message):
    before = project_digest(project)
    code, _, err = run_cli(capsys, "evaluate", project, *args)
    assert code == 2 and err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1
    assert project_digest(project) == before
