"""Evaluation inside the training loop: validation loss on fixed windows and a short greedy sample.

Both leave the training RNG streams untouched (no dropout in eval mode; BERT's masking during
evaluation uses its own generator seeded the same way every time), so evaluating does not change
what the run does next, and a resumed run matches an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch

from workbench.core.models.modeling import logits_of
from workbench.core.tokenizers.protocol import Tokenizer
from workbench.core.training.batches import EveryWindow

LossFn = Callable[[torch.nn.Module, torch.Tensor, "torch.Generator | None"], torch.Tensor]


@torch.no_grad()
def validation_loss(model: torch.nn.Module, windows: np.ndarray | EveryWindow, batch_size: int,
                    loss_fn: LossFn, device: torch.device, *, mask_seed: int,
                    autocast: Callable[[], AbstractContextManager] = nullcontext,
                    tick: Callable[[], None] = lambda: None) -> float:
    """Mean loss over `windows` (the same every evaluation); the model is left in training mode."""
    model.eval()
    generator = torch.Generator(device=device)
    generator.manual_seed(mask_seed)
    total, count = 0.0, 0
    try:
        for start in range(0, len(windows), batch_size):
            ids = torch.from_numpy(windows[start:start + batch_size]).to(device)
            with autocast():
                loss = loss_fn(model, ids, generator)
            total += float(loss) * len(ids)
            count += len(ids)
            tick()
    finally:
        model.train()
    return total / max(1, count)


def perplexity(loss: float) -> float:
    return math.exp(loss) if loss < 700 else math.inf


@torch.no_grad()
def greedy_sample(model: torch.nn.Module, tokenizer: Tokenizer, prompt: str, max_new_tokens: int, block_size: int,
                  device: torch.device, autocast: Callable[[], AbstractContextManager] = nullcontext) -> str:
    """Continue `prompt` greedily (deterministic: no RNG consumed); returns only the continuation."""
    ids = list(tokenizer.encode(prompt)) or [0]
    generated: list[int] = []
    model.eval()
    try:
        for _ in range(max_new_tokens):
            context = torch.tensor([(ids + generated)[-block_size:]], dtype=torch.long, device=device)
            with autocast():
                logits = logits_of(model, context)
            generated.append(int(logits[0, -1].float().argmax()))
    finally:
        model.train()
    return tokenizer.decode(generated)
