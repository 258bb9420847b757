"""`workbench attention --png --view ...`: the head view, the scores and the heatmaps from the command
line, for every architecture with attention (Llama's grouped-query heads are shown per query head)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import TINY_RUN, make_words_project, project_digest, run_cli
from PIL import Image

from workbench.cli import main


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """gpt2, bert and a llama run with 4 query heads sharing 2 key/value heads."""
    root = make_words_project(tmp_path_factory.mktemp("attention-views") / "p.wbproj")
    for arch, extra in (("gpt2", []), ("bert", []), ("llama", ["--n-head", "4", "--n-kv-head", "2"])):
        args = [*map(str, TINY_RUN)]
        if extra:
            at = args.index("--n-head")
            del args[at:at + 2]
        assert main(["train", str(root), "--dataset", "words", "--tokenizer", "chars", "--arch", arch, *args, *extra,
                     "--name", arch, "--json"]) == 0
    return root


def _png(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


@pytest.mark.parametrize("run", ["gpt2", "bert", "llama"])
@pytest.mark.parametrize("view, extra", [("lines", ["--layer", "1"]), ("scores", []), ("grid", []),
                                         ("head", ["--layer", "0", "--head", "1"])])
def test_every_view_of_every_architecture_is_drawn(project, tmp_path, capsys, run, view, extra):
    out = tmp_path / f"{run}-{view}.png"
    code, stdout, err = run_cli(capsys, "attention", project, "--run", run, "--text", "the king speaks", "--view", view,
                                *extra, "--png", out)
    assert code == 0, err
    assert stdout == f"wrote {out}\n"
    width, height = _png(out)
    assert width > 200 and height > 200


def test_lines_view_draws_the_chosen_heads_only(project, tmp_path, capsys):
    one, every = tmp_path / "one.svg", tmp_path / "every.svg"
    assert run_cli(capsys, "attention", project, "--run", "llama", "--text", "the king", "--view", "lines",
                   "--layer", "0", "--head", "3", "--png", one)[0] == 0
    assert run_cli(capsys, "attention", project, "--run", "llama", "--text", "the king", "--view", "lines",
                   "--layer", "0", "--png", every)[0] == 0
    assert "head 3" in one.read_text() and "head 0" not in one.read_text()
    assert all(f"head {h}" in every.read_text() for h in range(4))  # one per query head, not per kv head


def test_llama_weights_come_per_query_head_and_bert_is_bidirectional(project, capsys):
    llama = json.loads(run_cli(capsys, "attention", project, "--run", "llama", "--text", "the king", "--json")[1])
    assert llama["heads"] == 4 and np.asarray(llama["weights"]).shape[:2] == (2, 4)
    assert np.allclose(np.asarray(llama["weights"]).sum(-1), 1, atol=0.02)
    bert = np.asarray(json.loads(run_cli(capsys, "attention", project, "--run", "bert", "--text", "the king",
                                         "--json")[1])["weights"])
    assert np.triu(bert, 1).sum() > 0


@pytest.mark.parametrize("args, message", [
    (["--view", "lines", "--png", "{tmp}/x.png"], "--view lines draws the heads of one layer: give --layer"),
    (["--view", "head", "--layer", "0", "--png", "{tmp}/x.png"], "--view head draws one head"),
    (["--view", "scores"], "--view scores chooses what --png draws; add --png FILE"),
])
def test_bad_view_requests_say_what_to_add(project, tmp_path, capsys, args, message):
    before = project_digest(project)
    args = [a.format(tmp=tmp_path) for a in args]
    code, out, err = run_cli(capsys, "attention", project, "--run", "gpt2", "--text", "the king", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
    assert project_digest(project) == before


@pytest.mark.parametrize("run", ["gpt2", "llama"])
def test_scores_view_draws_the_model_scores_the_window_computes(project, tmp_path, capsys, run):
    """The same `head_scores` as the window's Scores tab (induction on repeated random tokens), not
    scores read from the text's own map."""
    from workbench.core.attention.head_scores import head_scores
    from workbench.core.attention.views import scores_caption
    from workbench.core.inference.models import load_checkpoint_for_inference
    from workbench.core.project.store import ProjectStore

    out = tmp_path / "scores.svg"
    code, stdout, err = run_cli(capsys, "attention", project, "--run", run, "--text", "the king speaks",
                                "--view", "scores", "--png", out)
    assert code == 0, err
    with ProjectStore.open(project) as store:
        loaded = load_checkpoint_for_inference(store, run, "latest", device="cpu")
    scores = head_scores(loaded.model, loaded.tokenizer, "the king speaks")
    svg = out.read_text()
    assert "Induction" in svg and scores_caption(scores) in svg
    assert f"{float(scores.induction[1, 0]):.2f}" in svg
