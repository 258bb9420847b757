"""ModelSpec -> torch model, its loss, and its folder on disk.

gpt2 trains as the lean internal GPT (`lean_gpt.py`: same weights as `GPT2LMHeadModel`, less
overhead); llama, bert are the transformers models; lstm is a plain torch baseline. A model folder
is `config.json` + `model.safetensors` (+ `workbench_spec.json`, our exact `ModelSpec`), and for
the three transformer architectures it loads with transformers' `from_pretrained`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import (
    AutoConfig,
    BertForMaskedLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaForCausalLM,
    PreTrainedModel,
)
from transformers.utils import logging as hf_logging

from workbench.core.base.errors import CorruptProjectError, InvalidSpecError, NotFoundError, WorkbenchError
from workbench.core.base.specs import ModelSpec, spec_from_dict, spec_to_dict
from workbench.core.models.configs import (  # noqa: F401  (re-exported: part of this module's API)
    hf_config,
    lean_config,
    llama_intermediate_size,
    spec_from_hf_config,
)
from workbench.core.models.init_weights import fan_in_init
from workbench.core.models.lean_gpt import LeanGPT, from_gpt2_config, to_gpt2_config
from workbench.core.models.lstm import LSTM_MODEL_TYPE, LSTMLanguageModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
SPEC_FILE = "workbench_spec.json"
HF_CLASSES: dict[str, type[PreTrainedModel]] = {"gpt2": GPT2LMHeadModel, "llama": LlamaForCausalLM, "bert": BertForMaskedLM}


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No tqdm bars from transformers while we load/save (they would garble CLI and JSON output)."""
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def model_kind(spec) -> str:
    """"causal" (predicts the next token), "masked" (BERT) or "lstm"."""
    return {"gpt2": "causal", "llama": "causal", "bert": "masked", "lstm": "lstm"}[spec.arch]


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DistributedDataParallel / torch.compile / `devices.CompiledOrEager`."""
    for _ in range(4):  # wrappers may nest (DDP around a compiled model)
        inner = getattr(model, "module", None)
        if not isinstance(inner, torch.nn.Module):
            inner = getattr(model, "_orig_mod", None)
        if not isinstance(inner, torch.nn.Module):
            return model
        model = inner
    return model


def build_model(spec: ModelSpec) -> torch.nn.Module:
    """A freshly initialised model (fp32, train mode). `spec.vocab_size` must be set."""
    spec.validate()
    if spec.vocab_size < 1:
        raise InvalidSpecError("the model's vocabulary size is unknown: choose a tokenizer first")
    _check_arch_options(spec)
    if spec.arch == "gpt2":
        return LeanGPT(lean_config(spec))
    if spec.arch == "lstm":
        return LSTMLanguageModel(spec.vocab_size, spec.n_embd, spec.n_layer, spec.dropout,
                                 spec.tie_embeddings, spec.bias)
    model = HF_CLASSES[spec.arch](hf_config(spec))
    if spec.arch == "llama":
        fan_in_init(model, spec.n_layer, blocks=".layers.")
    return model


def _check_arch_options(spec: ModelSpec) -> None:
    if spec.arch in ("gpt2", "bert") and not spec.bias:
        raise InvalidSpecError(f"{spec.arch} always has bias terms (Hugging Face's model has no switch): "
                               "keep biases on, or use --arch llama for a model without them")
    head_size = spec.n_embd // spec.n_head if spec.n_head else 0
    if spec.arch == "llama" and head_size % 2:
        even = spec.n_head * (head_size + 1)
        raise InvalidSpecError(f"llama's rotary positions need an even head size, and --n-embd {spec.n_embd} / "
                               f"--n-head {spec.n_head} = {head_size}: use --n-embd {even} (or another multiple "
                               f"of {2 * spec.n_head})")
    if spec.arch != "llama" and spec.n_kv_head not in (None, spec.n_head):
        raise InvalidSpecError("only llama has grouped-query attention (fewer key/value heads): "
                               "remove the key/value head setting or use --arch llama")


def logits_of(model: torch.nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) ids -> (B, T, V) logits for any model this module builds or loads."""
    if isinstance(unwrap(model), LSTMLanguageModel):
        return model(input_ids)[0]
    if isinstance(unwrap(model), LeanGPT):
        return model(input_ids).logits
    return model(input_ids=input_ids, use_cache=False).logits


def mask_tokens(ids: torch.Tensor, vocab_size: int, mask_token_id: int | None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: 15% of positions are predicted; of those 80% become [MASK], 10% a random token,
    10% stay. Returns (inputs, labels) with labels -100 where nothing is predicted."""
    if mask_token_id is None:
        raise InvalidSpecError("a BERT model needs a [MASK] token but this tokenizer has none: "
                               "train a new tokenizer in this app (they all reserve [MASK]) or pick one with a mask token")
    rng_device = generator.device if generator is not None else ids.device
    rand = torch.rand(ids.shape, generator=generator, device=rng_device).to(ids.device)
    how = torch.rand(ids.shape, generator=generator, device=rng_device).to(ids.device)
    random_ids = torch.randint(vocab_size, ids.shape, generator=generator, device=rng_device).to(ids.device)
    chosen = rand < 0.15
    if not bool(chosen.any()):  # a loss over zero tokens would be NaN: predict at least one
        chosen.view(-1)[int(rand.argmin())] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    inputs = torch.where(chosen & (how < 0.8), torch.full_like(ids, mask_token_id), ids)
    inputs = torch.where(chosen & (how >= 0.8) & (how < 0.9), random_ids, inputs)
    return inputs, labels


def compute_loss(model: torch.nn.Module, spec: ModelSpec, ids: torch.Tensor, *,
                 mask_token_id: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean cross-entropy of a (B, T+1) batch. Causal models and the LSTM predict ids[:, 1:] from
    ids[:, :-1]; BERT sees ids[:, :-1] with 15% of it masked and predicts the masked tokens."""
    inputs, targets = ids[:, :-1], ids[:, 1:]
    if model_kind(spec) == "masked":
        inputs, targets = mask_tokens(inputs, spec.vocab_size, mask_token_id, generator)
    elif isinstance(unwrap(model), LeanGPT):
        return model(inputs, targets=targets).loss  # loss fused in the model: no logits copy
    logits = logits_of(model, inputs)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)


def validate_against(spec: ModelSpec, *, vocab_size: int, pretrained_positions: int | None = None) -> None:
    """Cross checks between a model spec, its tokenizer and (when fine-tuning) the pretrained model."""
    spec.validate()
    _check_arch_options(spec)
    if vocab_size < 1:
        raise InvalidSpecError("the tokenizer has an empty vocabulary: train or choose another tokenizer")
    if spec.init_from and spec.vocab_size and vocab_size > spec.vocab_size:
        raise InvalidSpecError(
            f"the tokenizer has {vocab_size} tokens but the pretrained model {spec.init_from!r} only has "
            f"{spec.vocab_size} embeddings: use the model's own tokenizer "
            f"(workbench tokenizer --kind pretrained --source {spec.init_from})")
    if not spec.init_from and spec.vocab_size and spec.vocab_size != vocab_size:
        raise InvalidSpecError(f"the model was made for {spec.vocab_size} tokens but the tokenizer has "
                               f"{vocab_size}: use the tokenizer the model was trained with")
    if pretrained_positions is not None and spec.arch != "lstm" and spec.block_size > pretrained_positions:
        raise InvalidSpecError(
            f"--block-size {spec.block_size} is longer than the {pretrained_positions} positions the "
            f"pretrained model knows: use --block-size {pretrained_positions} or less")


# ----------------------------------------------------------------------------- folders on disk

def save_model_dir(model: torch.nn.Module, spec: ModelSpec, out_dir: Path) -> None:
    """Write `config.json`, `model.safetensors` and `workbench_spec.json` into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = unwrap(model)
    if isinstance(model, LSTMLanguageModel):
        config = {"model_type": LSTM_MODEL_TYPE, "architectures": ["LSTMLanguageModel"],
                  "vocab_size": model.vocab_size, "n_embd": model.n_embd, "n_layer": model.n_layer,
                  "workbench_spec": spec_to_dict(spec)}
        (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
        _save_weights(model, out_dir, drop="head.weight" if model.head.weight is model.embedding.weight else None)
    elif isinstance(model, LeanGPT):
        to_gpt2_config(model.config).save_pretrained(out_dir)
        # GPT-2's own layout: the tied lm_head is not stored (transformers re-ties it on load)
        _save_weights(model, out_dir, drop="lm_head.weight" if model.config.tie_embeddings else None)
    elif isinstance(model, PreTrainedModel):
        with quiet_transformers():
            model.save_pretrained(out_dir)
    else:
        raise TypeError(f"cannot save a {type(model).__name__}: not an LSTM, lean GPT or transformers model")
    (out_dir / SPEC_FILE).write_text(json.dumps(spec_to_dict(spec), indent=2), encoding="utf-8")


def _save_weights(model: torch.nn.Module, out_dir: Path, drop: str | None) -> None:
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items() if k != drop}
    save_file(state, str(out_dir / WEIGHTS_FILE), metadata={"format": "pt"})


def _read_spec(model_dir: Path, raw: dict) -> ModelSpec:
    if (model_dir / SPEC_FILE).is_file():
        return spec_from_dict(ModelSpec, json.loads((model_dir / SPEC_FILE).read_text(encoding="utf-8")))
    if "workbench_spec" in raw:
        return spec_from_dict(ModelSpec, raw["workbench_spec"])
    # trust_remote_code=False on every load: a shared project's folder may carry an `auto_map` to its own
    # Python file, which must never run (nor may transformers ask the user whether to run it)
    return spec_from_hf_config(AutoConfig.from_pretrained(model_dir, local_files_only=True, trust_remote_code=False))


@quiet_transformers()
def load_model_dir(model_dir: Path, *, for_training: bool,
                   device: str | torch.device = "cpu") -> tuple[torch.nn.Module, ModelSpec]:
    """Load a folder written by `save_model_dir` (or any GPT-2 / Llama / BERT HF folder).

    for_training=True: the training module (lean GPT for gpt2), in train mode.
    for_training=False: the inference model (transformers' model with KV cache, or the LSTM), eval
    mode, its parameters frozen (requires_grad off)."""
    model_dir = Path(model_dir)
    config_path = model_dir / CONFIG_FILE
    if not config_path.is_file():
        raise NotFoundError(f"{model_dir} holds no saved model (no config.json): pick another checkpoint or run")
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
        _refuse_custom_code(raw, model_dir)
        spec = _read_spec(model_dir, raw)
        if raw.get("model_type") == LSTM_MODEL_TYPE:
            model = build_model(spec)
            _load_weights(model, model_dir, tied={"head.weight"} if spec.tie_embeddings else set())
        elif spec.arch == "gpt2" and for_training:
            model = _lean_from_dir(model_dir)
        else:
            model = HF_CLASSES[spec.arch].from_pretrained(
                model_dir, local_files_only=True, trust_remote_code=False, dtype=torch.float32,
                attn_implementation="sdpa")
    except WorkbenchError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        raise CorruptProjectError(f"could not read the model in {model_dir}: {exc}. The folder may be "
                                  "damaged or incomplete: pick another checkpoint") from exc
    model.to(device)
    model.train(for_training)
    model.requires_grad_(for_training)  # an inference model is never trained: frozen, as samplers may rely on
    return model, spec


def _refuse_custom_code(raw: dict, model_dir: Path) -> None:
    """A folder that only its own Python code can load (`auto_map` to a model type transformers does
    not know) is refused with one clear line; transformers' own refusal is long and says to trust it."""
    if isinstance(raw, dict) and "auto_map" in raw and raw.get("model_type") not in (*HF_CLASSES, LSTM_MODEL_TYPE):
        raise CorruptProjectError(
            f"the model in {model_dir} needs its own Python code to load (auto_map in config.json), and LM "
            "Workbench never runs code from a model folder: pick another checkpoint or a GPT-2, Llama or BERT model")


def _load_weights(model: torch.nn.Module, model_dir: Path, tied: set[str]) -> None:
    missing, unexpected = model.load_state_dict(load_file(str(model_dir / WEIGHTS_FILE)), strict=False)
    if set(missing) - tied or unexpected:
        raise KeyError(f"weights do not match the model: missing {sorted(set(missing) - tied)}, "
                       f"unexpected {sorted(unexpected)}")


def _lean_from_dir(model_dir: Path) -> torch.nn.Module:
    config = GPT2Config.from_pretrained(model_dir, local_files_only=True, trust_remote_code=False)
    lean_cfg = from_gpt2_config(config)
    if lean_cfg is None:  # a GPT-2 variant the lean model does not implement: train the HF model
        return GPT2LMHeadModel.from_pretrained(model_dir, local_files_only=True, trust_remote_code=False,
                                               dtype=torch.float32, attn_implementation="sdpa")
    model = LeanGPT(lean_cfg)
    model.load_hf_state_dict(load_file(str(model_dir / WEIGHTS_FILE)))
    return model
