"""What a training run will cost before it starts: parameters, memory, FLOPs, seconds per step.

The parameter count is exact: the model is built on PyTorch's "meta" device (shapes, no memory), so
even GPT-2 124M counts instantly. Memory and FLOPs are documented approximations.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass

import torch

from workbench.core.base.devices import autocast, available_memory_bytes, choose_device, resolve_precision
from workbench.core.base.errors import InvalidSpecError
from workbench.core.base.specs import DEFAULT_EVAL_BATCHES, ModelSpec, TrainSpec
from workbench.core.models.modeling import build_model, compute_loss, llama_intermediate_size
from workbench.core.training.flat_params import FlatParameters
from workbench.core.training.optim import clip_gradients, make_optimizer, zero_gradients

# Memory PyTorch itself takes besides the tensors (CPU: libraries and allocator caches; GPU: the
# CUDA context); a run is said to fit when the tensors plus this fit in the available memory.
_FRAMEWORK_BYTES = {"cpu": 600 * 2**20, "cuda": 500 * 2**20, "mps": 500 * 2**20}


@dataclass(frozen=True)
class Estimate:
    params: int
    weights_bytes: int
    grads_bytes: int
    optimizer_bytes: int
    activations_bytes: int
    total_bytes: int
    flops_per_token: float
    fits: bool | None
    device_memory_bytes: int | None
    notes: tuple[str, ...]


_POSITION_TABLES = ("wpe.weight", "position_embeddings.weight", "token_type_embeddings.weight")
_INPUT_EMBEDDINGS = ("wte.weight", "embed_tokens.weight", "word_embeddings.weight", "embedding.weight")


def count_params(spec: ModelSpec) -> tuple[int, int]:
    """(all unique parameters, those only looked up, never multiplied: position tables and, when the
    head is not tied to it, the input embedding), counted on the meta device."""
    with torch.device("meta"):
        model = _model_for_counting(spec)
    total = sum(p.numel() for p in model.parameters())  # parameters() yields tied weights once
    lookup = _POSITION_TABLES if spec.tie_embeddings else _POSITION_TABLES + _INPUT_EMBEDDINGS
    return total, sum(p.numel() for name, p in model.named_parameters() if name.endswith(lookup))


def _model_for_counting(spec: ModelSpec) -> torch.nn.Module:
    """The model as it will be trained: from the pretrained config when fine-tuning (its MLP width,
    biases and so on are not all in a ModelSpec), else from the spec; random weights (or none on the
    meta device)."""
    if spec.init_from:
        from transformers import AutoConfig

        from workbench.core.models.lean_gpt import LeanGPT, from_gpt2_config
        from workbench.core.models.modeling import HF_CLASSES

        try:
            config = AutoConfig.from_pretrained(spec.init_from, local_files_only=True, trust_remote_code=False)
        except (OSError, ValueError):  # not available offline: the spec's sizes are the best guess
            config = None
        if config is not None and spec.arch in HF_CLASSES:
            lean = from_gpt2_config(config) if spec.arch == "gpt2" else None
            return LeanGPT(lean) if lean is not None else HF_CLASSES[spec.arch](config)
    return build_model(spec)


def activation_values_per_token(spec: ModelSpec) -> float:
    """Values kept for the backward pass, per token of a micro-batch, for the whole model.

    Transformers follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
    Transformer Models"): 34*h bytes per token and layer in 16-bit with dropout masks, i.e. about
    17*h values, without their 5*a*T attention-score term because SDPA (flash / memory-efficient
    attention) never stores the T x T matrix. Llama's SwiGLU MLP keeps 4 intermediate tensors of
    width i (gate, up, silu, product) instead of GPT's 2 of 4h, and RoPE two more copies of q, k:
    9*h + 4*i + 2*h. The LSTM keeps per layer and step its 4 gates, cell and hidden state: ~7*h.
    Plus the logits and their gradient / softmax (2*V values per token) and the embeddings (h)."""
    h, layers, vocab = spec.n_embd, spec.n_layer, spec.vocab_size
    if spec.arch == "llama":
        per_layer = 11 * h + 4 * llama_intermediate_size(h)
    elif spec.arch == "lstm":
        per_layer = 7 * h
    else:
        per_layer = 17 * h
    return layers * per_layer + 2 * vocab + h


def estimate(spec: ModelSpec, train: TrainSpec, device: str = "cpu") -> Estimate:
    """Memory and compute of training `spec` with `train`'s micro-batch on `device` ("auto" allowed)."""
    params, lookup_params = count_params(spec)
    dev, present = _device_for_estimate(device)
    if present:
        precision = resolve_precision(dev, train.precision)
    else:  # planning a GPU run on a machine without that GPU
        precision = train.precision if train.precision != "auto" else "bf16"
    weights = 4 * params  # fp32 master weights, also under autocast
    grads = 4 * params
    optimizer = 8 * params  # AdamW: exp_avg and exp_avg_sq, fp32 each
    tokens = train.batch_size * spec.block_size  # one micro-batch: grad_accum does not add activations
    bytes_per_value = 4 if precision == "fp32" else 2  # autocast keeps matmul outputs in 16 bits
    activations = int(tokens * activation_values_per_token(spec) * bytes_per_value)
    total = weights + grads + optimizer + activations
    # nanoGPT's estimate_mfu / PaLM appendix B: 6 FLOPs per parameter and token (forward 2, backward 4)
    # plus attention's 12 * layers * T * d (QK^T and AV, forward and backward); lookup tables do no math
    attention = 0 if spec.arch == "lstm" else 12 * spec.n_layer * spec.block_size * spec.n_embd
    flops = 6.0 * (params - lookup_params) + attention

    device_memory = available_memory_bytes(dev) if present else None
    notes: list[str] = [] if present else [f"there is no {device} device here: whether it fits is unknown"]
    fits: bool | None = None
    if device_memory is not None:
        need = total + _FRAMEWORK_BYTES.get(dev.type, 0)
        fits = need <= device_memory
        if not fits:
            where = "free GPU memory" if dev.type != "cpu" else "available RAM"
            hint = ("the system would kill the process without warning" if dev.type == "cpu"
                    else "it would stop with an out-of-memory error")
            notes.append(f"needs about {_gb(need)} but only {_gb(device_memory)} of {where} is there: {hint}; "
                         f"lower --batch-size (then raise --grad-accum) or --block-size, or pick a smaller preset")
    if activations > weights + grads + optimizer:
        notes.append("activations dominate: a smaller --batch-size with more --grad-accum saves most memory")
    if precision == "fp32" and dev.type == "cuda":
        notes.append("--precision auto (bf16 / fp16) would roughly halve activation memory and run faster")
    return Estimate(params=params, weights_bytes=weights, grads_bytes=grads, optimizer_bytes=optimizer,
                    activations_bytes=activations, total_bytes=total, flops_per_token=flops, fits=fits,
                    device_memory_bytes=device_memory, notes=tuple(notes))


def _device_for_estimate(device: str) -> tuple[torch.device, bool]:
    try:
        return choose_device(device), True
    except InvalidSpecError:
        if device.startswith(("cuda", "mps")):
            return torch.device(device), False
        raise


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def probe_step_time(spec: ModelSpec, train: TrainSpec, device: str = "cpu", steps: int = 3) -> float:
    """Measured seconds per optimizer step (grad_accum micro-batches, clipping, AdamW) on random
    tokens, after one warm-up step; the median of `steps` steps. Model and optimizer are thrown away."""
    dev = choose_device(device)
    torch_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(0)
        model = _model_for_counting(spec).to(dev)  # fine-tuning: the pretrained architecture, random weights
        model.train()
        flat = FlatParameters.pack(model, train.weight_decay)  # as the training loop does
        optimizer = make_optimizer(model, dataclasses.replace(train, lr=min(train.lr, 1e-3)), flat=flat)
        gen = torch.Generator(device="cpu").manual_seed(0)
        batch = torch.randint(spec.vocab_size, (train.batch_size, spec.block_size + 1), generator=gen).to(dev)
        mask_id = spec.vocab_size - 1  # any id: only timing matters here

        def one_step() -> None:
            for _ in range(train.grad_accum):
                with autocast(dev, train.precision):
                    loss = compute_loss(model, spec, batch, mask_token_id=mask_id, generator=gen)
                (loss / train.grad_accum).backward()
            clip_gradients(model, train.grad_clip, flat=flat)
            optimizer.step()
            zero_gradients(optimizer, flat)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)

        one_step()  # warm-up: allocator, kernels, thread pool
        timings = []
        for _ in range(max(1, steps)):
            start = time.perf_counter()
            one_step()
            timings.append(time.perf_counter() - start)
        return float(statistics.median(timings))
    finally:
        torch.random.set_rng_state(torch_state)


def require_fit(spec: ModelSpec, train: TrainSpec, device: str = "cpu") -> None:
    """Refuse a run whose model, optimizer, activations and fixed evaluation windows cannot fit in the
    device's available memory: a CPU run that does not fit is killed by the system without a word
    (and leaves a run row behind), a GPU run stops with out-of-memory. A device that is not here
    (planning a GPU run) is not refused."""
    found = estimate(spec, train, device)
    if found.device_memory_bytes is None:
        return
    windows = (train.eval_batches or DEFAULT_EVAL_BATCHES) * train.batch_size  # `fixed_windows`, int64 tokens
    framework = _FRAMEWORK_BYTES.get(_device_for_estimate(device)[0].type, 0)
    need = found.total_bytes + windows * (spec.block_size + 1) * 8 + framework
    if need > found.device_memory_bytes:
        raise InvalidSpecError(
            f"this run needs about {_gb(need)} of memory ({found.params:,} parameters; a batch of "
            f"{train.batch_size} x {spec.block_size} tokens) but only {_gb(found.device_memory_bytes)} is available; "
            "lower --n-embd, --n-layer, --batch-size (then raise --grad-accum) or --block-size, or pick a smaller preset")
