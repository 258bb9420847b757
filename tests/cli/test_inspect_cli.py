"""`workbench generate` and `workbench attention` on real (tiny) runs trained by `workbench train`."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import make_runs_project, project_digest, run_cli
from PIL import Image

from workbench.core.project.store import ProjectStore, now_iso


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project with a char tokenizer and three finished 4-step runs: gpt2, bert, lstm."""
    return make_runs_project(tmp_path_factory.mktemp("inspect-cli") / "p.wbproj")


def generations(root: Path) -> list[dict]:
    with ProjectStore.open(root) as store:
        return store.query("SELECT * FROM generations ORDER BY id")


def test_generate_json_is_deterministic_and_saved(project, capsys):
    args = ["generate", project, "--run", "gpt2", "--prompt", "the king", "--max-new-tokens", 12,
            "--temperature", 0.8, "--top-k", 10, "--seed", 7, "--num-samples", 2, "--json"]
    before = len(generations(project))
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    first = json.loads(out)
    assert json.loads(run_cli(capsys, *args)[1]) == first
    assert first["run"] == "gpt2" and first["checkpoint"] == 4 and first["settings"]["seed"] == 7
    assert len(first["samples"]) == 2
    for sample in first["samples"]:
        assert "".join(t["token"] for t in sample["tokens"]) == sample["text"]
        assert len(sample["tokens"]) == 12 or sample["tokens"][-1]["id"] == 0  # or it ended at <|endoftext|>
        for token in sample["tokens"]:
            assert 0 < token["prob"] <= 1 and isinstance(token["id"], int)
            probs = [p for _, p in token["alternatives"]]
            assert len(probs) == 5 and probs == sorted(probs, reverse=True)
        assert sample["logprob_total"] == sample["tokens"][-1]["logprob_total"] < 0
    rows = generations(project)[before:]
    assert len(rows) == 4 and [r["text"] for r in rows[:2]] == [s["text"] for s in first["samples"]]
    assert rows[0]["checkpoint_step"] == 4 and json.loads(rows[0]["settings"])["top_k"] == 10


def test_generate_streams_plain_text_and_honours_stop(project, capsys):
    code, out, err = run_cli(capsys, "generate", project, "--run", "gpt2", "--prompt", "the", "--checkpoint", 4,
                             "--max-new-tokens", 40, "--temperature", 0, "--json")
    assert code == 0, err
    full = json.loads(out)["samples"][0]["text"]
    code, out, err = run_cli(capsys, "generate", project, "--run", "gpt2", "--prompt", "the", "--checkpoint", 4,
                             "--max-new-tokens", 40, "--temperature", 0)
    assert code == 0 and out == "the" + full + "\n"
    stop = full[3:5]
    code, out, _ = run_cli(capsys, "generate", project, "--run", "gpt2", "--prompt", "the", "--checkpoint", "best",
                           "--max-new-tokens", 40, "--temperature", 0, "--stop", stop, "--json")
    text = json.loads(out)["samples"][0]["text"]
    assert stop not in text


def test_bert_fills_masks_and_lstm_generates(project, capsys):
    code, out, err = run_cli(capsys, "generate", project, "--run", "bert", "--prompt", "the k[MASK]ng", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["mode"] == "fill-mask" and len(doc["masks"]) == 1 and len(doc["masks"][0]) == 5
    assert doc["text"].startswith("the k") and doc["text"].endswith("ng")
    code, out, err = run_cli(capsys, "generate", project, "--run", "lstm", "--prompt", "the", "--max-new-tokens", 5,
                             "--seed", 1, "--json")
    assert code == 0, err
    tokens = json.loads(out)["samples"][0]["tokens"]
    assert 1 <= len(tokens) <= 5
    assert len(tokens) == 5 or tokens[-1]["id"] == 0  # an early stop only at <|endoftext|> (id 0)


def test_attention_json_and_selection(project, capsys):
    text = "the king speaks"
    code, out, err = run_cli(capsys, "attention", project, "--run", "gpt2", "--text", text, "--json")
    assert code == 0, err
    doc = json.loads(out)
    weights = np.asarray(doc["weights"])
    assert weights.shape == (2, 2, len(text), len(text)) == (doc["layers"], doc["heads"], len(text), len(text))
    assert np.allclose(weights.sum(-1), 1, atol=1e-2) and np.allclose(np.triu(weights, 1), 0)
    assert doc["tokens"][3] == "·" and len(doc["tokens"]) == len(text)
    code, out, _ = run_cli(capsys, "attention", project, "--run", "gpt2", "--text", text, "--layer", 1, "--head", 0,
                           "--json")
    one = json.loads(out)
    assert np.asarray(one["weights"]).shape == (1, 1, len(text), len(text))
    assert one["weights"][0][0] == doc["weights"][1][0]
    code, out, _ = run_cli(capsys, "attention", project, "--run", "bert", "--text", text, "--json")
    bert = np.asarray(json.loads(out)["weights"])
    assert np.triu(bert, 1).sum() > 0  # bidirectional


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:  # an independent reader: Pillow, not our own code
        assert image.format == "PNG"
        image.load()  # decodes every row: a truncated or corrupt file raises here
        return image.size


def test_attention_png_head_and_grid(project, tmp_path, capsys):
    head, grid = tmp_path / "head.png", tmp_path / "grid.png"
    assert run_cli(capsys, "attention", project, "--run", "gpt2", "--text", "the king", "--layer", 0, "--head", 1,
                   "--png", head)[0] == 0
    assert run_cli(capsys, "attention", project, "--run", "gpt2", "--text", "the king", "--png", grid)[0] == 0
    layer = tmp_path / "layer.png"
    assert run_cli(capsys, "attention", project, "--run", "gpt2", "--text", "the king", "--layer", 1, "--png", layer)[0] == 0
    (hw, hh), (gw, gh), (lw, lh) = _png_size(head), _png_size(grid), _png_size(layer)
    assert hw > 100 and hh > 100
    assert gw == lw and gh > lh  # the same two heads side by side; one row of tiles instead of two


def test_attention_svg_when_the_file_name_says_so(project, tmp_path, capsys):
    svg = tmp_path / "head.svg"
    code, out, err = run_cli(capsys, "attention", project, "--run", "gpt2", "--text", "the king", "--layer", 0,
                             "--head", 0, "--png", svg)
    assert code == 0 and out == f"wrote {svg}\n" and err == ""
    assert svg.read_text().startswith("<?xml") and "<svg" in svg.read_text()


def test_attention_png_names_the_characters_no_font_has(tmp_path, capsys):
    from workbench.commands.inspect import _write_png

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one note from us, not a matplotlib warning per glyph
        _write_png(tmp_path / "a.png", np.full((1, 1, 2, 2), 0.5), ["\ue000", "café"], "run", [0], [0])
    err = capsys.readouterr().err
    assert err.startswith("note: no installed font can draw '\\ue000'") and "café" not in err
    with Image.open(tmp_path / "a.png") as image:
        assert image.format == "PNG"  # the figure is still written, with a box for that character


@pytest.mark.parametrize("args, message", [
    (["generate", "--run", "nope", "--prompt", "x"], "no run named 'nope'"),
    (["generate", "--run", "gpt2", "--prompt", "x", "--checkpoint", 3], "no checkpoint at step 3"),
    (["generate", "--run", "gpt2", "--prompt", "x", "--checkpoint", "worst"], "worst"),
    (["generate", "--run", "gpt2", "--prompt", ""], "--prompt"),
    (["generate", "--run", "gpt2", "--prompt", "x", "--top-p", 0], "--top-p"),
    (["generate", "--run", "gpt2", "--prompt", "x", "--temperature", -1], "--temperature"),
    (["generate", "--run", "bert", "--prompt", "no blanks"], "[MASK]"),
    (["generate", "--run", "empty", "--prompt", "x"], "no checkpoint yet"),
    (["attention", "--run", "gpt2", "--text", "x", "--layer", 5], "--layer 5"),
    (["attention", "--run", "gpt2", "--text", ""], "--text"),
    (["attention", "--run", "lstm", "--text", "the", "--json"], "LSTM"),
])
def test_bad_input_exits_2_and_leaves_the_project_unchanged(project, capsys, args, message):
    with ProjectStore.open(project) as store:
        if not store.name_taken("runs", "empty"):
            store.insert("runs", {"name": "empty", "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                  "status": "queued", "dir": "runs/empty", "created": now_iso()})
    before = project_digest(project)
    code, out, err = run_cli(capsys, args[0], project, *args[1:])
    assert code == 2, err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1 and message in err
    assert project_digest(project) == before


def test_training_saved_an_attention_time_lapse(project):
    from workbench.core.attention.snapshots import load_attention_snapshots

    with ProjectStore.open(project) as store:
        gpt2 = load_attention_snapshots(store, "gpt2")
        assert [s.step for s in gpt2] == [2, 4] and gpt2[0].probe_text
        weights = gpt2[-1].load().weights.astype(np.float32)
        assert weights.shape[:2] == (2, 2) and weights.shape[-1] <= 32
        assert np.allclose(weights.sum(-1), 1, atol=1e-2) and np.allclose(np.triu(weights, 1), 0)
        assert [s.step for s in load_attention_snapshots(store, "bert")] == [2, 4]
        assert load_attention_snapshots(store, "lstm") == []
