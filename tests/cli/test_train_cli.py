"""`workbench train` and `workbench export`: JSON lines, bad inputs, export to transformers, stop and kill."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import project_digest, run_cli

from workbench.cli import main
from workbench.core.project.store import ProjectStore

TINY = ["--n-layer", 1, "--n-head", 2, "--n-embd", 32, "--block-size", 16, "--batch-size", 4, "--device", "cpu",
        "--lr", "3e-3", "--warmup", 2]



def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]



def _text() -> str:
    rng = np.random.default_rng(0)
    words = ["the", "king", "speaks", "to", "his", "men", "and", "they", "answer", "with", "song", "night"]
    lines = [" ".join(rng.choice(words, size=8)) + "." for _ in range(800)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train-cli") / "p.wbproj"
    text = root.parent / "words.txt"
    text.write_text(_text())
    assert main(["new", str(root)]) == 0
    assert main(["import", str(root), str(text), "--name", "words"]) == 0
    assert main(["tokenizer", str(root), "--dataset", "words", "--kind", "char", "--name", "chars"]) == 0
    return root


@pytest.fixture(scope="module")
def trained_run(project) -> dict:
    """One finished 6-step gpt2 run (its JSON lines and run id)."""
    code = main(["train", str(project), "--dataset", "words", *map(str, TINY), "--max-steps", "6",
                 "--eval-interval", "3", "--name", "tiny-gpt2", "--json"])
    assert code == 0
    return {"name": "tiny-gpt2"}


def test_train_json_lines(project, capsys):
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", "--tokenizer", "chars", *TINY,
                             "--max-steps", 4, "--eval-interval", 2, "--json")
    assert code == 0, err
    lines = json_lines(out)
    assert all("event" in e and isinstance(e["step"], int) for e in lines)
    steps = [e for e in lines if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, 2, 3, 4]
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "memory_mb"} <= set(steps[0])
    evals = [e for e in lines if e["event"] == "eval"]
    assert [e["step"] for e in evals] == [2, 4] and all({"val_loss", "val_ppl"} <= set(e) for e in evals)
    checkpoints = [e for e in lines if e["event"] == "checkpoint"]
    assert [e["step"] for e in checkpoints] == [2, 4]
    samples = [e for e in lines if e["event"] == "sample"]
    assert [e["step"] for e in samples] == [2, 4] and all(isinstance(e["text"], str) for e in samples)
    last = lines[-1]
    assert last["event"] == "finished" and last["status"] == "finished" and last["step"] == 4
    with ProjectStore.open(project) as store:
        run = store.get_run(last["run"])
        assert (run["status"], run["step"]) == ("finished", 4)
        assert (project / checkpoints[-1]["path"] / "manifest.json").is_file()
        assert [r["step"] for r in store.list_checkpoints(run["id"])] in ([2, 4], [4])
        rows = {r["step"]: r for r in store.list_checkpoints(run["id"])}
        assert checkpoints[-1]["kind"] in ("latest", "best") and checkpoints[-1]["sha256"] == rows[4]["sha256"]
        assert len(store.metrics(run["id"], "loss")) == 4


def test_human_output_and_resume_with_more_steps(project, trained_run, capsys):
    code, out, err = run_cli(capsys, "train", project, "--resume", trained_run["name"], "--max-steps", 9,
                             "--lr", "0.5", "--tie-embeddings", "no")
    assert code == 0, err
    assert "finished at step 9" in out and "val loss" in err and "ignoring --lr, --tie-embeddings" in err
    with ProjectStore.open(project) as store:
        run = store.get_run(trained_run["name"])
        assert run["train_spec"]["max_steps"] == 9 and run["step"] == 9
        assert [m["step"] for m in store.metrics(run["id"], "loss")] == list(range(1, 10))


@pytest.mark.parametrize("args, message", [
    (["--dataset", "nope"], "no dataset named 'nope'"),
    (["--dataset", "words", "--tokenizer", "nope"], "no tokenizer named 'nope'"),
    (["--resume", "nope"], "no run named 'nope'"),
    (["--dataset", "words", "--n-embd", 30, "--n-head", 4], "divisible"),
    (["--dataset", "words", "--lr", 5], "--lr"),
    (["--dataset", "words", "--max-steps", 0], "--max-steps"),
    (["--dataset", "words", "--device", "cuda"], "cuda"),
    (["--dataset", "words", "--name", "tiny-gpt2"], "already exists"),
    (["--dataset", "words", "--preset", "no-such-preset"], "no-such-preset"),
    ([], "--dataset"),
    (["--dataset", "words", "--arch", "llama", "--n-embd", 12, "--n-head", 4], "even head size"),
    (["--dataset", "words", "--precision", "fp16", "--device", "cpu"], "fp16 is for GPUs"),
    (["--dataset", "words", "--arch", "gpt2", "--n-kv-head", 2], "only llama"),
])
def test_bad_input_exits_2_and_leaves_the_project_unchanged(project, trained_run, capsys, args, message):
    before = project_digest(project)
    code, out, err = run_cli(capsys, "train", project, *args)
    assert code == 2
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err
    assert project_digest(project) == before


def test_vocabulary_mismatch_with_a_pretrained_model(project, tmp_path, capsys):
    import shutil

    from transformers import GPT2Config, GPT2LMHeadModel

    source = tmp_path / "tiny-pretrained"  # a model with 8 embeddings and a tokenizer with more tokens
    GPT2LMHeadModel(GPT2Config(vocab_size=8, n_positions=16, n_embd=16, n_layer=1, n_head=2)).save_pretrained(source)
    with ProjectStore.open(project) as store:
        chars_dir = store.path(store.get_tokenizer("chars")["dir"])
    for item in chars_dir.iterdir():
        shutil.copy2(item, source / item.name)
    assert main(["tokenizer", str(project), "--dataset", "words", "--kind", "pretrained", "--source", str(source),
                 "--name", "too-big"]) == 0
    capsys.readouterr()
    before = project_digest(project)
    code, _, err = run_cli(capsys, "train", project, "--dataset", "words", "--tokenizer", "too-big",
                           "--init-from", source, "--block-size", 8)
    assert code == 2 and err.startswith("error:") and "embeddings" in err, err
    assert project_digest(project) == before
    code, _, err = run_cli(capsys, "train", project, "--dataset", "words", "--tokenizer", "chars",
                           "--init-from", source, "--block-size", 8)
    assert code == 2 and "--kind pretrained" in err
    assert project_digest(project) == before


def test_fine_tune_from_a_pretrained_folder(project, tmp_path, capsys):
    import shutil

    from transformers import GPT2Config, GPT2LMHeadModel

    with ProjectStore.open(project) as store:
        chars = store.get_tokenizer("chars")
        chars_dir = store.path(chars["dir"])
    source = tmp_path / "pretrained"  # a "pretrained" model sharing the char tokenizer's vocabulary
    config = GPT2Config(vocab_size=chars["vocab_size"], n_positions=32, n_embd=32, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(source)
    for item in chars_dir.iterdir():
        shutil.copy2(item, source / item.name)
    assert main(["tokenizer", str(project), "--dataset", "words", "--kind", "pretrained", "--source", str(source),
                 "--name", "pre-chars"]) == 0
    capsys.readouterr()
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", "--tokenizer", "pre-chars",
                             "--init-from", source, "--block-size", 16, "--batch-size", 4, "--max-steps", 2,
                             "--eval-interval", 2, "--device", "cpu", "--name", "fine-tuned", "--json")
    assert code == 0, err
    assert json_lines(out)[-1]["status"] == "finished"
    with ProjectStore.open(project) as store:
        run = store.get_run("fine-tuned")
        assert run["model_spec"]["init_from"] == str(source) and run["model_spec"]["n_embd"] == 32


def test_fine_tuning_without_a_tokenizer_uses_the_models_own(project, tmp_path, capsys):
    import shutil

    from transformers import GPT2Config, GPT2LMHeadModel

    with ProjectStore.open(project) as store:
        chars = store.get_tokenizer("chars")
        chars_dir = store.path(chars["dir"])
    source = tmp_path / "own-tokenizer"
    GPT2LMHeadModel(GPT2Config(vocab_size=chars["vocab_size"], n_positions=32, n_embd=32, n_layer=1,
                               n_head=2)).save_pretrained(source)
    for item in chars_dir.iterdir():
        shutil.copy2(item, source / item.name)
    args = ["train", project, "--dataset", "words", "--init-from", source, "--block-size", 16, "--batch-size", 4,
            "--max-steps", 2, "--eval-interval", 2, "--device", "cpu", "--json"]
    code, out, err = run_cli(capsys, *args, "--name", "own-1")
    assert code == 0, err
    assert any(e["event"] == "notice" and "own-tokenizer-tokenizer" in e["message"] for e in json_lines(out))
    code, out, err = run_cli(capsys, *args, "--name", "own-2")  # the second run reuses it
    assert code == 0, err
    with ProjectStore.open(project) as store:
        made = [t for t in store.list_tokenizers() if t["kind"] == "pretrained" and t["name"].startswith("own-")]
        assert [t["name"] for t in made] == ["own-tokenizer-tokenizer"]
        assert store.get_run("own-1")["tokenizer_id"] == store.get_run("own-2")["tokenizer_id"] == made[0]["id"]


def test_resume_from_a_damaged_checkpoint_is_refused(project, capsys):
    assert main(["train", str(project), "--dataset", "words", *map(str, TINY), "--max-steps", "2",
                 "--eval-interval", "2", "--name", "to-damage", "--json"]) == 0
    with ProjectStore.open(project) as store:
        row = store.list_checkpoints(store.get_run("to-damage")["id"])[-1]
    weights = project / row["dir"] / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    capsys.readouterr()
    before = project_digest(project)
    code, _, err = run_cli(capsys, "train", project, "--resume", "to-damage", "--max-steps", 4)
    assert code == 2 and "damaged" in err and row["dir"] in err and "model.safetensors" in err
    assert project_digest(project) == before


def _hf_logits_equal(export: Path, checkpoint: Path, masked: bool) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    from workbench.core.models.modeling import load_model_dir, logits_of

    tok = AutoTokenizer.from_pretrained(export)
    hf = (AutoModelForMaskedLM if masked else AutoModelForCausalLM).from_pretrained(export).eval()
    ours, _ = load_model_dir(checkpoint, for_training=True)
    ids = tok("the king speaks", return_tensors="pt").input_ids
    assert ids.shape[1] > 5
    with torch.no_grad():
        torch.testing.assert_close(logits_of(hf, ids), logits_of(ours.eval(), ids), rtol=1e-4, atol=1e-4)


def test_export_loads_in_transformers_with_equal_logits(project, trained_run, tmp_path, capsys):
    out = tmp_path / "export"
    code, stdout, err = run_cli(capsys, "export", project, "--run", trained_run["name"], "--out", out, "--json")
    assert code == 0, err
    info = json.loads(stdout)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(info["files"])
    assert not (out / "optimizer.safetensors").exists() and not (out / "manifest.json").exists()
    with ProjectStore.open(project) as store:
        from workbench.core.project.checkpoints import verified_checkpoint

        _, checkpoint = verified_checkpoint(store, store.get_run(trained_run["name"]), "latest")
    _hf_logits_equal(out, checkpoint, masked=False)
    code, _, err = run_cli(capsys, "export", project, "--run", trained_run["name"], "--out", out)
    assert code == 2 and "not an empty folder" in err
    code, _, err = run_cli(capsys, "export", project, "--run", trained_run["name"], "--out", tmp_path / "x",
                           "--checkpoint", 999)
    assert code == 2 and "no checkpoint at step 999" in err and not (tmp_path / "x").exists()


@pytest.mark.parametrize("flag, tied", [(None, True), ("yes", True), ("no", False)])
def test_tie_embeddings_flag_is_recorded_and_exported(project, tmp_path, capsys, flag, tied):
    """The output layer shares the input embedding unless told otherwise; the run records the choice and
    the export tells transformers, whose model then gives the same logits."""
    name = f"tie-{flag}"
    code, _, err = run_cli(capsys, "train", project, "--dataset", "words", "--tokenizer", "chars", "--n-layer", 2,
                           "--n-head", 2, "--n-embd", 64, "--block-size", 16, "--batch-size", 4, "--device", "cpu",
                           "--max-steps", 2, "--eval-interval", 2, *(["--tie-embeddings", flag] if flag else []),
                           "--name", name)
    assert code == 0, err
    with ProjectStore.open(project) as store:
        from workbench.core.project.checkpoints import verified_checkpoint

        run = store.get_run(name)
        assert run["model_spec"]["tie_embeddings"] is tied
        _, checkpoint = verified_checkpoint(store, run, "latest")
    out = tmp_path / name
    code, _, err = run_cli(capsys, "export", project, "--run", name, "--out", out)
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["tie_word_embeddings"] is tied
    _hf_logits_equal(out, checkpoint, masked=False)


def test_bert_exports_for_masked_lm_and_lstm_refuses(project, tmp_path, capsys):
    for arch in ("bert", "lstm"):
        code, _, err = run_cli(capsys, "train", project, "--dataset", "words", *TINY, "--arch", arch,
                               "--max-steps", 2, "--eval-interval", 2, "--name", f"tiny-{arch}", "--json")
        assert code == 0, err
    out = tmp_path / "bert"
    assert run_cli(capsys, "export", project, "--run", "tiny-bert", "--out", out)[0] == 0
    with ProjectStore.open(project) as store:
        from workbench.core.project.checkpoints import verified_checkpoint

        _, checkpoint = verified_checkpoint(store, store.get_run("tiny-bert"), "latest")
    _hf_logits_equal(out, checkpoint, masked=True)
    code, _, err = run_cli(capsys, "export", project, "--run", "tiny-lstm", "--out", tmp_path / "lstm")
    assert code == 2 and "LSTM" in err and not (tmp_path / "lstm").exists()


# ---- real processes: Ctrl-C and a kill ---------------------------------------------------------

def _start_training(project: Path, *extra) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "workbench", "train", str(project), *map(str, extra), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _read_until_checkpoint(proc: subprocess.Popen) -> list[dict]:
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if lines[-1]["event"] == "checkpoint":
            return lines
    raise AssertionError(f"no checkpoint before exit: {proc.stderr.read()[-500:]}")


@pytest.mark.slow
def test_ctrl_c_stops_with_a_checkpoint(project):
    proc = _start_training(project, "--dataset", "words", *TINY, "--max-steps", 100000, "--eval-interval", 5,
                           "--name", "ctrl-c")
    try:
        lines = _read_until_checkpoint(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    lines += [json.loads(line) for line in out.splitlines()]
    last = lines[-1]
    assert last["event"] == "finished" and last["status"] == "stopped", err
    assert proc.returncode == 130
    checkpoints = [e for e in lines if e["event"] == "checkpoint"]
    assert checkpoints[-1]["step"] == last["step"]  # the stop saved (or had just saved) the current step
    with ProjectStore.open(project) as store:
        run = store.get_run("ctrl-c")
        assert run["status"] == "stopped"
        assert max(r["step"] for r in store.list_checkpoints(run["id"])) == last["step"]


@pytest.mark.slow
def test_killed_process_is_interrupted_and_resumes(project):
    proc = _start_training(project, "--dataset", "words", *TINY, "--max-steps", 100000, "--eval-interval", 5,
                           "--name", "killed")
    try:
        first = _read_until_checkpoint(proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    saved = first[-1]["step"]
    con = sqlite3.connect(project / "project.db")  # pretend the heartbeat went stale long ago
    con.execute("UPDATE runs SET heartbeat = heartbeat - 3600 WHERE name = 'killed'")
    con.commit()
    con.close()
    with ProjectStore.open(project) as store:
        run = store.get_run("killed")
        assert run["status"] == "interrupted"
    started = time.time()
    result = subprocess.run([sys.executable, "-m", "workbench", "train", str(project), "--resume", "killed",
                             "--max-steps", str(saved + 3), "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["step"] for e in lines if e["event"] == "step"] == [saved + 1, saved + 2, saved + 3]
    assert lines[-1]["status"] == "finished" and time.time() - started < 300
    with ProjectStore.open(project) as store:
        run = store.get_run("killed")
        assert (run["status"], run["step"]) == ("finished", saved + 3)


def test_an_unexpected_failure_ends_with_a_failed_line_not_a_traceback(project, capsys, monkeypatch):
    from workbench.core.training import loop as train_loop

    def broken_step(self):
        raise RuntimeError("the kernel fell over")

    monkeypatch.setattr(train_loop._Loop, "_optimizer_step", broken_step)
    code, out, err = run_cli(capsys, "train", project, "--dataset", "words", "--max-steps", 3, "--name", "broken",
                             "--json")
    assert code == 1 and "Traceback" not in err
    last = json_lines(out)[-1]
    assert last["event"] == "finished" and last["status"] == "failed"
    assert "RuntimeError: the kernel fell over" in last["message"]
    with ProjectStore.open(project) as store:
        assert store.get_run("broken")["status"] == "failed"


def test_a_run_without_a_checkpoint_resumes_from_the_beginning(project, capsys):
    """A run created but never trained (the process died while building the token cache), or killed
    before its first evaluation, has nothing to continue from: --resume starts it over, and what the
    abandoned attempt recorded goes."""
    from workbench.core.base.events import run_to_end
    from workbench.core.base.specs import ModelSpec, TrainSpec
    from workbench.core.ops.run_setup import create_run

    with ProjectStore.open(project) as store:
        _, run = run_to_end(create_run(
            store, dataset="words", tokenizer="chars", name="never-started",
            model_spec=ModelSpec(n_layer=1, n_head=2, n_embd=32, block_size=16),
            train_spec=TrainSpec(batch_size=4, max_steps=4, eval_interval=4, device="cpu")))
        store.insert("metrics", {"run_id": run["id"], "step": 3, "name": "loss", "value": 9.0, "wall": 0.0})  # abandoned
        assert store.get_run("never-started")["status"] == "queued"
    code, out, err = run_cli(capsys, "train", project, "--resume", "never-started", "--json")
    assert code == 0, err
    lines = json_lines(out)
    assert any("no checkpoint yet, so it starts from the beginning" in line.get("message", "") for line in lines)
    steps = [line["step"] for line in lines if line["event"] == "step"]
    assert steps[0] == 1 and lines[-1]["status"] == "finished" and lines[-1]["step"] == 4
    with ProjectStore.open(project) as store:
        run = store.get_run("never-started")
        assert run["status"] == "finished"
        losses = store.db.execute("SELECT value FROM metrics WHERE run_id = ? AND name = 'loss' AND step = 3",
                                  [run["id"]]).fetchall()
        assert len(losses) == 1 and losses[0][0] != 9.0
