"""A checkpoint loaded for inference is kept for the next request (the playground's first token must
not wait for the model to be rebuilt), yet its files are verified on every request."""

from __future__ import annotations

import pytest

from tests.helpers.cli_helpers import make_one_run_project
from workbench.core.inference.models import forget_loaded_checkpoints, load_checkpoint_for_inference
from workbench.core.project.checkpoints import DamagedCheckpointError
from workbench.core.project.store import ProjectStore


@pytest.fixture
def project(tmp_path):
    forget_loaded_checkpoints()
    yield make_one_run_project(tmp_path / "p.wbproj")
    forget_loaded_checkpoints()


def test_a_loaded_checkpoint_is_reused_and_each_step_is_its_own(project):
    with ProjectStore.open(project) as store:
        first = load_checkpoint_for_inference(store, "gpt2", "latest")
        again = load_checkpoint_for_inference(store, "gpt2", first.step)
        earlier = load_checkpoint_for_inference(store, "gpt2", 2)
    assert again.model is first.model and again.tokenizer is first.tokenizer
    assert earlier.step == 2 and first.step == 4 and earlier.model is not first.model
    forget_loaded_checkpoints()
    with ProjectStore.open(project) as store:
        assert load_checkpoint_for_inference(store, "gpt2").model is not first.model


def test_a_kept_checkpoint_damaged_on_disk_is_still_refused(project):
    with ProjectStore.open(project) as store:
        loaded = load_checkpoint_for_inference(store, "gpt2")
        weights = project / loaded.checkpoint["dir"] / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:-8] + b"damaged!")
        with pytest.raises(DamagedCheckpointError):
            load_checkpoint_for_inference(store, "gpt2")
