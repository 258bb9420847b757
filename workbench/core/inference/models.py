"""One interface over the models we sample from: feed ids, get the next-token logits.

- `CachedCausalLM`: Hugging Face GPT-2 / Llama with their KV cache (a `DynamicCache` passed as
  `cache=`; the older `past_key_values=` keyword is deprecated in transformers 5.x). When the
  window is full it drops the oldest quarter and recomputes the cache over the rest: positions are
  absolute (GPT-2) or must stay within the trained range (Llama), so a cache cannot simply slide.
  The model always sees between 3/4 and all of its context, and the recompute happens once per
  block_size/4 tokens instead of every token.
- `LeanCachedLM`: GPT-2 (HF or the lean training GPT) through `gpt2_decoder.GPT2Decoder`, the
  same arithmetic without the model's per-call overhead; the window slides as above. Capturing
  attention needs the model's own modules (hooks), so it goes through `CachedCausalLM`.
- `RecurrentLM`: the LSTM baseline, `forward(input_ids, state) -> (logits, state)`; no window.
- `WindowedLM`: any other causal module returning logits; it
  recomputes the last block_size tokens every step, like nanoGPT's sampler.

Model calls run under `torch.inference_mode()` one at a time, never across a `yield`, so the
caller's own torch work between tokens is not affected.

`load_checkpoint_for_inference` resolves a run's checkpoint (latest, best or a step), verifies it
and loads the inference model with its tokenizer: what `generate`, `attention` and the playground
start from.
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from workbench.core.base.errors import WorkbenchError
from workbench.core.inference import gpt2_decoder
from workbench.core.inference.gpt2_decoder import GPT2Decoder
from workbench.core.models.attention_hooks import attention_hooks, is_hf_model
from workbench.core.tokenizers.protocol import Tokenizer


def context_size(model: nn.Module) -> int | None:
    """The longest input the model was built for, or None when it has no limit (LSTM)."""
    config = getattr(model, "config", None)
    for name in ("n_positions", "max_position_embeddings", "block_size"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def is_masked_lm(model: nn.Module) -> bool:
    return is_hf_model(model) and type(model).__name__.endswith("ForMaskedLM")


def _logits_of(output) -> torch.Tensor:
    if isinstance(output, tuple):  # the LSTM returns (logits, state)
        output = output[0]
    return getattr(output, "logits", output)


class _Stepper:
    """Base: `prime(ids)` reads a prompt, `advance(token)` one more token; both return the
    float32 logits [vocab] for the next token. `attention` holds the last step's weights row."""

    attention: np.ndarray | None = None

    def __init__(self, model: nn.Module, device: torch.device) -> None:
        self.model = model
        self.device = device

    def _tensor(self, ids: list[int]) -> torch.Tensor:
        return torch.tensor([ids], dtype=torch.long, device=self.device)

    def prime(self, ids: list[int]) -> torch.Tensor:
        raise NotImplementedError

    def advance(self, token: int) -> torch.Tensor:
        raise NotImplementedError


class CachedCausalLM(_Stepper):
    def __init__(self, model: nn.Module, device: torch.device, block_size: int,
                 capture_attention: bool = False) -> None:
        super().__init__(model, device)
        self.block_size = block_size
        self.keep_after_slide = max(1, block_size - max(1, block_size // 4))
        self.capture_attention = capture_attention
        self.window: list[int] = []
        self.cache = None
        self._rows: list[np.ndarray] = []

    def _new_cache(self) -> Any:
        # transformers is already loaded whenever an HF model exists; the import stays here so the
        # LSTM and lean-GPT paths never pay for it.
        from transformers import DynamicCache

        # With the config, the cache lays out its layers as the model needs (sliding-window layers too).
        return DynamicCache(config=self.model.config if is_hf_model(self.model) else None)

    def _forward(self, ids: list[int], cache: Any) -> torch.Tensor:
        """Run `ids` after what `cache` holds; the model appends their keys and values to it."""
        self._rows = []
        with torch.inference_mode():
            if self.capture_attention:
                with attention_hooks(self.model, self._keep_last_row):
                    out = self.model(input_ids=self._tensor(ids), cache=cache, use_cache=True)
                self.attention = np.stack(self._rows)
            else:
                out = self.model(input_ids=self._tensor(ids), cache=cache, use_cache=True)
            self.cache = out.cache
            return out.logits[0, -1].float()

    def _keep_last_row(self, _layer: int, weights: torch.Tensor) -> None:
        self._rows.append(weights[0, :, -1, :].to(torch.float16).cpu().numpy())

    def prime(self, ids: list[int]) -> torch.Tensor:
        self.window = list(ids[-self.block_size:])
        return self._forward(self.window, self._new_cache())

    def advance(self, token: int) -> torch.Tensor:
        if len(self.window) + 1 > self.block_size:
            self.window = (self.window + [token])[-self.keep_after_slide:]
            return self._forward(self.window, self._new_cache())  # positions restart: a fresh cache
        self.window.append(token)
        return self._forward([token], self.cache)


class LeanCachedLM(CachedCausalLM):
    """GPT-2 weights through `GPT2Decoder`: the same logits as the model with its cache, without
    the model's per-call Python overhead; the window slides as in `CachedCausalLM`."""

    def __init__(self, model: nn.Module, device: torch.device, block_size: int) -> None:
        super().__init__(model, device, block_size)
        self.decoder = GPT2Decoder(model, block_size)
        self.block_size = self.decoder.block_size
        self.keep_after_slide = max(1, self.block_size - max(1, self.block_size // 4))

    def _new_cache(self) -> Any:
        return self.decoder.new_cache()

    def _forward(self, ids: list[int], cache: Any) -> torch.Tensor:
        self.cache = cache
        return self.decoder.forward(ids, cache)


class RecurrentLM(_Stepper):
    def __init__(self, model: nn.Module, device: torch.device) -> None:
        super().__init__(model, device)
        self.state = None

    def _forward(self, ids: list[int]) -> torch.Tensor:
        with torch.inference_mode():
            logits, self.state = self.model(self._tensor(ids), self.state)
        return logits[0, -1].float()

    def prime(self, ids: list[int]) -> torch.Tensor:
        self.state = None
        return self._forward(ids)

    def advance(self, token: int) -> torch.Tensor:
        return self._forward([token])


class WindowedLM(_Stepper):
    def __init__(self, model: nn.Module, device: torch.device, block_size: int) -> None:
        super().__init__(model, device)
        self.block_size = block_size
        self.window: list[int] = []

    def _forward(self) -> torch.Tensor:
        with torch.inference_mode():
            return _logits_of(self.model(self._tensor(self.window)))[0, -1].float()

    def prime(self, ids: list[int]) -> torch.Tensor:
        self.window = list(ids[-self.block_size:])
        return self._forward()

    def advance(self, token: int) -> torch.Tensor:
        self.window = (self.window + [token])[-self.block_size:]
        return self._forward()


def make_stepper(model: nn.Module, device: torch.device, capture_attention: bool = False) -> _Stepper:
    """The right stepper for `model` (see the module docstring)."""
    if is_masked_lm(model):
        raise WorkbenchError("this is a masked language model (BERT): it fills in blanks instead of "
                             "continuing text; put [MASK] in the text to see its guesses")
    block_size = context_size(model)
    if not capture_attention and gpt2_decoder.supports(model):
        return LeanCachedLM(model, device, block_size or 1024)
    if is_hf_model(model):
        return CachedCausalLM(model, device, block_size or 1024, capture_attention)
    if "state" in inspect.signature(model.forward).parameters:
        return RecurrentLM(model, device)
    return WindowedLM(model, device, block_size or 1024)


# ---- a run's checkpoint, ready for inference -------------------------------------------------------

@dataclass(frozen=True)
class LoadedCheckpoint:
    run: dict[str, Any]
    checkpoint: dict[str, Any]  # the `checkpoints` row (step, dir, ...)
    model: nn.Module  # HF inference model (GPT-2, Llama, BERT) or the LSTM, in eval mode
    spec: Any  # ModelSpec
    tokenizer: Tokenizer

    @property
    def step(self) -> int:
        return int(self.checkpoint["step"])


def pick_device(device: str | None) -> str:
    """"auto" -> cuda, then mps, then cpu; anything else as given (None = cpu)."""
    if device in (None, "", "auto"):
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    return device


# Loaded checkpoints kept for the next request: a click on Generate must not rebuild the model each
# time (~100 ms for the tiny preset, most of the 150 ms the first token may take). Four, as the
# playground compares up to four columns side by side. Keyed by the verified files' hash, so a new
# checkpoint at the same step is loaded afresh; the files are still verified on every call, so a
# damaged checkpoint is refused even when its model is held here. The models are only read (eval
# mode, inference), so jobs on different threads may share one.
_KEEP_LOADED = 4
_loaded: OrderedDict[tuple, LoadedCheckpoint] = OrderedDict()
_loaded_lock = threading.Lock()


def forget_loaded_checkpoints() -> None:
    """Drop the models kept for reuse (frees their memory)."""
    with _loaded_lock:
        _loaded.clear()


def load_checkpoint_for_inference(store, run_key: str | int, which: str | int = "latest",
                                  device: str | None = "cpu") -> LoadedCheckpoint:
    """Resolve a run's checkpoint ("latest", "best" or a step), verify it and load the inference
    model with the tokenizer saved beside it (or, for older checkpoints, the run's project tokenizer).
    A checkpoint loaded recently is verified and then reused (see `_KEEP_LOADED`)."""
    from workbench.core.project.checkpoints import verified_checkpoint

    run = store.get_run(run_key)
    row, folder = verified_checkpoint(store, run, which)
    key = (str(folder.resolve()), row["sha256"], run.get("tokenizer_id"), pick_device(device))
    with _loaded_lock:
        kept = _loaded.get(key)
        if kept is not None:
            _loaded.move_to_end(key)
            return replace(kept, run=run, checkpoint=row)
    loaded = _load(store, run, row, folder, key[-1])
    with _loaded_lock:
        _loaded[key] = loaded
        while len(_loaded) > _KEEP_LOADED:
            _loaded.popitem(last=False)
    return loaded


def _load(store, run: dict[str, Any], row: dict[str, Any], folder: Path, device: str) -> LoadedCheckpoint:
    from workbench.core.models.modeling import load_model_dir
    from workbench.core.project.checkpoints import TOKENIZER_DIR
    from workbench.core.project.paths import inside
    from workbench.core.tokenizers.tokenizer import load_tokenizer

    model, spec = load_model_dir(folder, for_training=False, device=device)
    if (folder / TOKENIZER_DIR).is_dir():  # confined: a symlink out of the checkpoint is refused
        tokenizer = load_tokenizer(inside(folder, TOKENIZER_DIR, what=f"the tokenizer of checkpoint {row['dir']!r}"))
    elif run.get("tokenizer_id") is not None:
        tokenizer = load_tokenizer(store.path(store.get_tokenizer(run["tokenizer_id"])["dir"],
                                              what=f"the tokenizer folder of run {run['name']!r}"))
    else:
        raise WorkbenchError(f"run {run['name']!r} has no tokenizer (it was deleted); the checkpoint cannot be read")
    return LoadedCheckpoint(run=run, checkpoint=row, model=model, spec=spec, tokenizer=tokenizer)
