"""Random-number-generator states for exact resume, without pickle.

Python's `random` and numpy's global generator go to JSON; torch's CPU and CUDA generator states
(and any extra `torch.Generator`, e.g. BERT's masking generator) are uint8 tensors for safetensors.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def capture_rng(extra: dict[str, torch.Generator] | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(JSON-friendly states, tensors) of every generator the training loop may consume."""
    version, internal, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"]["key"] = numpy_state["state"]["key"].tolist()
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{index}"] = state
    for name, generator in (extra or {}).items():
        tensors[f"generator.{name}"] = generator.get_state()
    states = {"python": [version, list(internal), gauss], "numpy": numpy_state}
    return states, {k: v.contiguous().cpu() for k, v in tensors.items()}


def restore_rng(states: dict[str, Any], tensors: dict[str, torch.Tensor],
                extra: dict[str, torch.Generator] | None = None) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = dict(states["numpy"])
    numpy_state["state"] = {**numpy_state["state"], "key": np.asarray(numpy_state["state"]["key"], dtype=np.uint32)}
    np.random.set_state(numpy_state)
    torch.set_rng_state(tensors["torch_cpu"])
    cuda_keys = sorted((k for k in tensors if k.startswith("cuda.")), key=lambda k: int(k.split(".")[1]))
    cuda_states = [tensors[k] for k in cuda_keys]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])
    for name, generator in (extra or {}).items():
        key = f"generator.{name}"
        if key in tensors:
            generator.set_state(tensors[key])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
