"""The induction finding on a model trained here: training grows an induction head and the scores point it out.

The copy-task sample needs minutes of CPU training before anything shows (bench/bench_induction.py);
repeated random tokens, the very sequences the induction score reads, show it within a few hundred
steps of a small Llama with untied embeddings (about step 200). With tied embeddings (the default)
the same model also learns to copy perfectly, yet no head attends to the induction target (scores
stay under 0.1): it solves the task another way, so the test unties them.
"""

from __future__ import annotations

import pytest
import torch

from workbench.core.attention.head_scores import repeated_random_ids
from workbench.core.base.specs import ModelSpec
from workbench.core.models.modeling import build_model, compute_loss

PERIOD, BATCH, MAX_STEPS = 20, 32, 600


class Letters:
    vocab_size = 32
    special_tokens = {"<eos>": 0}
    eos_token_id = 0
    mask_token_id = None

    def encode(self, text: str) -> list[int]:
        return [1 + ord(c) % 31 for c in text]


def first_induction_step(model: torch.nn.Module, spec: ModelSpec) -> int | None:
    from workbench.core.attention.head_scores import head_scores

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.99))
    for step in range(1, MAX_STEPS + 1):
        # seeds from 1000 on: the scores' own random copies (seeds 0-3) are never trained on
        batch = [repeated_random_ids(Letters(), PERIOD, seed=1000 + step * BATCH + i) for i in range(BATCH)]
        loss = compute_loss(model, spec, torch.tensor(batch))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 and head_scores(model, Letters(), period=PERIOD).induction_heads():
            return step
    return None


@pytest.mark.slow
def test_training_on_repeated_tokens_grows_an_induction_head_that_the_scores_point_out():
    from workbench.core.attention.head_scores import head_scores

    torch.manual_seed(0)
    spec = ModelSpec(arch="llama", n_layer=2, n_head=4, n_embd=64, block_size=2 * PERIOD,
                     vocab_size=Letters.vocab_size, tie_embeddings=False)
    model = build_model(spec)
    before = head_scores(model, Letters(), period=PERIOD)
    assert before.induction_heads() == [] and before.induction.max() < 0.1  # untrained: about 1 / position
    step = first_induction_step(model, spec)
    assert step is not None, f"no induction head after {MAX_STEPS} steps"
    after = head_scores(model, Letters(), period=PERIOD)
    assert after.induction.max() > 3 * before.induction.max()
