"""Score a saved checkpoint: perplexity on its run's validation split or on any text.

`evaluate_checkpoint` loads a verified checkpoint (latest, best or a step) with its tokenizer and
returns a `CheckpointScore`. On the validation split it reads the run's token cache, so the number
is comparable with the validation loss logged while training (there on a fixed sample of windows,
here on every token). On a text it also gives each token's loss, which shows where the model is
surprised.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.events import Notice, Progress
from workbench.core.project.store import ProjectStore


@dataclass(frozen=True)
class CheckpointScore:
    run: str
    step: int
    source: str  # "validation" | "text"
    tokens: int  # tokens scored
    loss: float  # mean loss per predicted token (nats)
    perplexity: float
    token_texts: tuple[str, ...] = ()  # text only: each token for display
    token_losses: tuple[float, ...] = ()  # text only: each token's loss (NaN for the first of a causal model)


def evaluate_checkpoint(store: ProjectStore, run_key: str | int, which: str | int = "latest", *,
                        text: str | None = None, device: str | None = "cpu",
                        batch_size: int = 16) -> Generator[Progress | Notice, None, CheckpointScore]:
    """Perplexity of a run's checkpoint on its validation split, or on `text` when given."""
    from workbench.core.inference.evaluation import per_token_loss, perplexity
    from workbench.core.inference.models import load_checkpoint_for_inference
    from workbench.core.ops.catalog import ensure_token_cache

    loaded = load_checkpoint_for_inference(store, run_key, which, device=device)
    model_device = next(loaded.model.parameters()).device
    mask_id = loaded.tokenizer.mask_token_id
    texts: tuple[str, ...] = ()
    losses: tuple[float, ...] = ()
    if text is None:
        run = loaded.run
        if run.get("dataset_id") is None or run.get("tokenizer_id") is None:
            raise InvalidSpecError(f"run {run['name']!r} has no dataset or tokenizer any more; score a text "
                                   "instead (--text)")
        data = yield from ensure_token_cache(store, store.get_dataset(run["dataset_id"]),
                                             store.get_tokenizer(run["tokenizer_id"]))
        ids = np.asarray(data.val)
        if len(ids) < 2:
            raise InvalidSpecError(f"the validation split of run {run['name']!r} is empty; score a text instead "
                                   "(--text), or import the dataset again with --val-fraction above 0")
        source = "validation"
    else:
        ids = np.asarray(loaded.tokenizer.encode(text), dtype=np.int64)
        if len(ids) < 2:
            raise InvalidSpecError("the text is shorter than 2 tokens: give a longer --text")
        token_losses = per_token_loss(loaded.model, loaded.spec, ids, model_device, mask_token_id=mask_id)
        source = "text"
        texts = tuple(loaded.tokenizer.token_text(int(i)) for i in ids)
        losses = tuple(float(x) for x in token_losses)
    loss, ppl = yield from perplexity(loaded.model, loaded.spec, ids, batch_size=batch_size, device=model_device,
                                      mask_token_id=mask_id)
    return CheckpointScore(run=loaded.run["name"], step=loaded.step, source=source, tokens=int(len(ids)),
                           loss=loss, perplexity=ppl, token_texts=texts, token_losses=losses)
