"""Checkpoint files: atomic layout, manifest verification, optimizer and RNG state without pickle."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from training_helpers import build, loss_fn, make_job, run_all

from workbench.core.base.specs import TrainSpec
from workbench.core.project.checkpoints import (
    MANIFEST,
    DamagedCheckpointError,
    read_checkpoint_state,
    resume_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)
from workbench.core.project.store import ProjectStore, now_iso
from workbench.core.training.loop import train_loop
from workbench.core.training.optim import (
    accumulate_gradients,
    make_optimizer,
    optimizer_state_from_files,
    optimizer_state_to_files,
)
from workbench.core.training.state import capture_rng, restore_rng


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 20-step run with checkpoints at 10 and 20."""
    folder = tmp_path_factory.mktemp("ck")
    run_all(train_loop(make_job(folder, max_steps=20)))
    return folder


def _flip_byte(path, offset=-10):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_layout_and_manifest(trained):
    folder = trained / "20"
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {"model.safetensors", "config.json", "optimizer.safetensors", "rng.safetensors",
            "trainer_state.json", MANIFEST} <= names
    manifest = verify_checkpoint(folder)
    assert manifest["step"] == 20 and set(manifest["files"]) == names - {MANIFEST}
    assert not [p for p in trained.iterdir() if p.name.startswith(".")]  # no temporary folders left
    state = json.loads((folder / "trainer_state.json").read_text())
    assert state["step"] == 20 and state["sampler"]["drawn"] == 20 and "epoch_rng" in state["sampler"]


@pytest.mark.parametrize("victim", ["model.safetensors", "optimizer.safetensors", "trainer_state.json"])
def test_a_flipped_byte_is_caught_and_named(tmp_path, trained, victim):
    import shutil

    copy = tmp_path / "20"
    shutil.copytree(trained / "20", copy)
    _flip_byte(copy / victim)
    with pytest.raises(DamagedCheckpointError, match=victim) as err:
        verify_checkpoint(copy, label="runs/x/checkpoints/20")
    assert "runs/x/checkpoints/20" in str(err.value)


def test_missing_manifest_and_wrong_manifest_hash(tmp_path, trained):
    import shutil

    copy = tmp_path / "10"
    shutil.copytree(trained / "10", copy)
    with pytest.raises(DamagedCheckpointError, match="does not match the sha256"):
        verify_checkpoint(copy, expected_sha256="0" * 64)
    (copy / MANIFEST).unlink()
    with pytest.raises(DamagedCheckpointError, match="no manifest.json"):
        verify_checkpoint(copy)


def test_save_is_atomic_when_writing_fails(tmp_path):
    def broken_writer(folder):
        (folder / "model.safetensors").write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        save_checkpoint(tmp_path, 5, write_model=broken_writer, state={}, tensor_files={})
    assert list(tmp_path.iterdir()) == []


def test_optimizer_state_round_trip_through_flat_tensors():
    torch.manual_seed(0)
    model = build()
    optimizer = make_optimizer(model, TrainSpec())
    ids = torch.randint(0, 48, (2, 17))
    accumulate_gradients(model, [ids], lambda m, x: loss_fn(m, x, None), accum=1)
    optimizer.step()
    tensors, meta = optimizer_state_to_files(optimizer)
    meta = json.loads(json.dumps(meta))  # it really is JSON
    restored = optimizer_state_from_files(tensors, meta)
    original = optimizer.state_dict()
    assert restored["param_groups"] == original["param_groups"]
    for index, entry in original["state"].items():
        for key, value in entry.items():
            torch.testing.assert_close(restored["state"][index][key], value)


def test_rng_states_round_trip():
    generator = torch.Generator().manual_seed(3)
    states, tensors = capture_rng({"mask": generator})
    states = json.loads(json.dumps(states))
    expected = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=generator).item())
    restore_rng(states, tensors, {"mask": generator})
    again = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=generator).item())
    assert again == expected


def test_state_files_hold_no_pickle(trained):
    state, tensors = read_checkpoint_state(trained / "10")
    assert set(tensors) == {"optimizer.safetensors", "rng.safetensors"}
    assert all(isinstance(t, torch.Tensor) for file in tensors.values() for t in file.values())
    assert not list(trained.rglob("*.pt")) and not list(trained.rglob("*.bin"))


def _store_with_checkpoints(tmp_path, trained):
    import shutil

    store = ProjectStore.create(tmp_path / "p.wbproj")
    run_id = store.insert("runs", {"name": "r", "arch": "gpt2", "model_spec": {}, "train_spec": {}, "status": "stopped",
                                   "dir": "runs/r", "created": now_iso()})
    for step, latest in ((10, 0), (20, 1)):
        target = store.root / "runs" / "r" / "checkpoints" / str(step)
        shutil.copytree(trained / str(step), target)
        sha = __import__("hashlib").sha256((target / MANIFEST).read_bytes()).hexdigest()
        store.insert("checkpoints", {"run_id": run_id, "step": step, "dir": f"runs/r/checkpoints/{step}", "sha256": sha,
                                     "is_latest": latest, "is_best": 1 - latest, "created": now_iso()})
    return store, store.get_run(run_id)


def test_resume_falls_back_to_an_earlier_good_checkpoint(tmp_path, trained):
    store, run = _store_with_checkpoints(tmp_path, trained)
    with store:
        row, path, notes = resume_checkpoint(store, run)
        assert row["step"] == 20 and notes == []
        _flip_byte(path / "model.safetensors")
        row, path, notes = resume_checkpoint(store, run)
        assert row["step"] == 10
        assert len(notes) == 1 and "runs/r/checkpoints/20" in notes[0] and "model.safetensors" in notes[0]
        _flip_byte(path / "rng.safetensors")
        with pytest.raises(DamagedCheckpointError, match="runs/r/checkpoints/20"):
            resume_checkpoint(store, run)
