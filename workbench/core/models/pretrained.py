"""Pretrained GPT-2 / Llama / BERT models from a local folder or a hub id, to fine-tune.

A folder is read as it is. A hub id is looked up in the local Hugging Face cache first (fast, and
the only option offline); the hub is tried only when it answers within a few seconds, so an offline
machine gets a clear message at once instead of after huggingface_hub's retries. Code from a
model's repository is never run (`trust_remote_code=False`).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
from transformers import AutoConfig

from workbench.core.base.errors import NotFoundError, WorkbenchError
from workbench.core.base.specs import ModelSpec
from workbench.core.models.configs import spec_from_hf_config
from workbench.core.models.lean_gpt import LeanGPT, from_gpt2_config
from workbench.core.models.modeling import CONFIG_FILE, HF_CLASSES, quiet_transformers

# The config fields that hold each architecture's dropout (fine-tuning may use another rate).
DROPOUT_FIELDS = {"gpt2": ("resid_pdrop", "embd_pdrop", "attn_pdrop"), "llama": ("attention_dropout",),
                  "bert": ("hidden_dropout_prob", "attention_probs_dropout_prob")}


def load_pretrained(source: str, dropout: float | None = None) -> tuple[torch.nn.Module, ModelSpec]:
    """A pretrained GPT-2 / Llama / BERT from a local folder or a hub id, ready to fine-tune
    (GPT-2 becomes the lean GPT), with `dropout` when given instead of the model's own rate.
    Never runs code from the model's repository."""
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise NotFoundError(f"{path} has no config.json: point to a Hugging Face model folder "
                                "(config.json + model.safetensors)")
        return _load_pretrained(str(path), source, local_only=True, folder=True, dropout=dropout)
    looks_like_path = (source.startswith((".", "~", "/", "\\")) or "\\" in source
                       or source.count("/") > 1 or source[1:2] == ":")
    if looks_like_path:  # hub ids are "name" or "owner/name"
        raise NotFoundError(f"folder {source!r} does not exist: check the path")
    try:  # the local cache first: fast, and the only option offline
        return _load_pretrained(source, source, local_only=True, dropout=dropout)
    except WorkbenchError:
        if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on") or not _hub_reachable():
            raise  # offline: fail now rather than after huggingface_hub's ~25 s of retries
    return _load_pretrained(source, source, local_only=False, dropout=dropout)


def _hub_reachable(timeout: float = 3.0) -> bool:
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


@quiet_transformers()
def _load_pretrained(where: str, source: str, local_only: bool, folder: bool = False,
                     dropout: float | None = None) -> tuple[torch.nn.Module, ModelSpec]:
    try:
        config = AutoConfig.from_pretrained(where, local_files_only=local_only, trust_remote_code=False)
        if dropout is not None:
            for field in DROPOUT_FIELDS.get(getattr(config, "model_type", ""), ()):
                setattr(config, field, float(dropout))
        spec = spec_from_hf_config(config, init_from=source)
        hf = HF_CLASSES[spec.arch].from_pretrained(
            where, config=config, local_files_only=local_only, trust_remote_code=False,
            dtype=torch.float32, attn_implementation="sdpa")
    except WorkbenchError:
        raise
    except Exception as exc:  # transformers raises OSError, ValueError, HTTP errors...
        detail = f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        if folder:
            raise WorkbenchError(f"could not load the model in {source}: {detail}; it needs config.json and "
                                 "model.safetensors from a GPT-2, Llama or BERT model") from exc
        where_from = "offline: it is not in the local Hugging Face cache" if local_only else "from the hub"
        raise WorkbenchError(f"could not load {source!r} {where_from}; download it first or point to a "
                             f"local folder {detail}") from exc
    model: torch.nn.Module = hf
    lean_cfg = from_gpt2_config(config) if spec.arch == "gpt2" else None
    if lean_cfg is not None:
        model = LeanGPT(lean_cfg)
        model.load_hf_state_dict(hf.state_dict())
    model.train()
    return model, spec
