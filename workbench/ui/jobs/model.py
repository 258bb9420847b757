"""The model panel's background work: checks and estimates of a model, and a short timing probe.

Both run as jobs (torch and transformers are imported here lazily, on the job's thread) and never
fail: a problem with the settings comes back inside the result, in the core's own words, so the
panel can mark the field instead of showing a dialog while the user types.

The timing probe trains the real model for a few steps on random tokens. A step of a big model
(GPT-2 124M on a CPU) takes seconds and gigabytes, so above a FLOP budget it is measured on a
smaller micro-batch (fewer sequences, then a shorter context) twice, with 1 and 3 micro-batches per
step: the difference is the per-micro-batch time, the rest the fixed cost (clipping, AdamW). The
full step is the fixed cost plus the micro-batch time scaled by the FLOPs of a real micro-batch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.core.base.errors import InvalidSpecError, WorkbenchError
from workbench.core.base.specs import DEFAULT_EVAL_BATCHES, ModelSpec, TrainSpec
from workbench.ui.jobs.backends import heavy_imports

log = logging.getLogger(__name__)

# FLOPs one measured micro-batch may cost: about 0.3 s on a 2-core CPU, well under that on a GPU.
PROBE_FLOPS = {"cpu": 4e10, "mps": 1e12, "cuda": 5e12}
EVAL_FORWARD_SHARE = 1 / 3  # a forward pass costs about a third of forward + backward


@dataclass(frozen=True)
class EstimateRequest:
    """What the panel wants estimated. `model.vocab_size` is the tokenizer's (or a guess: `vocab_exact`)."""

    model: ModelSpec
    train: TrainSpec
    vocab_exact: bool = True


@dataclass(frozen=True)
class EstimateStage:
    """Yielded between the phases of a job (a cancellation point; the window shows nothing for it)."""

    stage: str


@dataclass(frozen=True)
class EstimateResult:
    request: EstimateRequest
    estimate: dict[str, Any] | None = None  # `estimates.Estimate` as a dict of plain numbers and strings
    problems: tuple[str, ...] = ()  # what `validate_against`, the device or precision check said
    model: ModelSpec | None = None  # the spec that was estimated (a pretrained model's own sizes)
    devices: dict[str, str] = dataclasses.field(default_factory=dict)  # "auto": "cpu", "cuda": name or ""


@dataclass(frozen=True)
class ProbeResult:
    key: tuple
    seconds_per_step: float | None = None
    scaled: bool = False  # measured on a smaller micro-batch and scaled up
    device: str = ""
    threads: int = 0
    problem: str = ""


def probe_key(request: EstimateRequest) -> tuple:
    """What the time of one optimizer step depends on (not the number of steps, not the schedule)."""
    t = request.train
    return (request.model, t.batch_size, t.grad_accum, t.precision, t.device, t.grad_clip, t.num_threads)


def evaluations(train: TrainSpec) -> int:
    """How many evaluations the training loop runs: every `eval_interval` steps and at the end."""
    return train.max_steps // train.eval_interval + (1 if train.max_steps % train.eval_interval else 0)


def run_seconds(seconds_per_step: float, train: TrainSpec) -> float:
    """The whole run: its steps plus its evaluations (eval_batches forward passes of a micro-batch each)."""
    batches = train.eval_batches or DEFAULT_EVAL_BATCHES  # 0 (the whole split): its length is not known here
    eval_s = evaluations(train) * batches * seconds_per_step / train.grad_accum * EVAL_FORWARD_SHARE
    return seconds_per_step * train.max_steps + eval_s


def estimate_job(request: EstimateRequest) -> Generator[EstimateStage, None, EstimateResult]:
    """Check the specs against the tokenizer, device and pretrained model; returns an EstimateResult."""
    yield EstimateStage("estimate")
    try:
        return _estimate(request)
    except WorkbenchError as exc:
        return EstimateResult(request, problems=(str(exc),))
    except Exception as exc:  # a bug must not pop up a dialog on every keystroke: log it, show it inline
        log.exception("estimating %s failed", request)
        return EstimateResult(request, problems=(f"the estimate failed ({type(exc).__name__}: {exc})",))


def _estimate(request: EstimateRequest) -> EstimateResult:
    with heavy_imports():  # torch and transformers load here, on the job's thread
        from workbench.core.models.modeling import validate_against
        from workbench.core.training.estimates import estimate
    spec, train = request.model, request.train
    vocab = spec.vocab_size
    positions = None
    if spec.init_from:
        pretrained = pretrained_config_spec(spec.init_from)
        positions = pretrained.block_size
        spec = replace(pretrained, dropout=spec.dropout, block_size=spec.block_size)
    problems: list[str] = []
    try:
        validate_against(spec, vocab_size=vocab, pretrained_positions=positions)
    except InvalidSpecError as exc:  # the model cannot be built: nothing to estimate
        return EstimateResult(request, None, (str(exc),), spec, detect_devices())
    try:
        _check_device(train)
    except WorkbenchError as exc:  # an absent GPU can still be planned for; the run cannot start here
        problems.append(str(exc))
    numbers = None
    try:
        numbers = dataclasses.asdict(estimate(spec, train, train.device))
    except InvalidSpecError as exc:
        if str(exc) not in problems:
            problems.append(str(exc))
    return EstimateResult(request, numbers, tuple(problems), spec, detect_devices())


def _check_device(train: TrainSpec) -> None:
    with heavy_imports():
        from workbench.core.base.devices import choose_device, resolve_precision
    resolve_precision(choose_device(train.device), train.precision)


def pretrained_config_spec(source: str) -> ModelSpec:
    """A pretrained model's sizes from its config alone (no weights): a local folder or a cached hub id."""
    with heavy_imports():
        from transformers import AutoConfig

        from workbench.core.models.modeling import spec_from_hf_config
    path = Path(source).expanduser()
    try:
        config = AutoConfig.from_pretrained(str(path) if path.is_dir() else source, local_files_only=True,
                                           trust_remote_code=False)
    except Exception as exc:  # transformers raises OSError, ValueError...
        raise WorkbenchError(f"cannot read the configuration of {source!r}: choose a Hugging Face model folder "
                             f"(config.json + model.safetensors) or a hub id downloaded before "
                             f"({type(exc).__name__})") from exc
    return spec_from_hf_config(config, init_from=source)


def detect_devices() -> dict[str, str]:
    """{"auto": the device "auto" picks, "cuda": GPU name or "", "mps": "Apple GPU" or ""}."""
    with heavy_imports():
        import torch

        from workbench.core.base.devices import choose_device
    cuda = ""
    try:
        if torch.cuda.is_available():
            cuda = torch.cuda.get_device_name(0)
    except Exception:  # a broken driver: the CPU still works
        cuda = ""
    mps = getattr(torch.backends, "mps", None)
    return {"auto": choose_device("auto").type, "cuda": cuda,
            "mps": "Apple GPU" if mps is not None and mps.is_available() else ""}


def probe_job(request: EstimateRequest, estimated: ModelSpec,
              flops_per_token: float) -> Generator[EstimateStage, None, ProbeResult]:
    """Measure seconds per optimizer step of `estimated` (the resolved spec); returns a ProbeResult."""
    key = probe_key(request)
    yield EstimateStage("threads")
    try:
        with heavy_imports():
            from workbench.core.base.devices import choose_device, choose_num_threads
        threads = choose_num_threads()  # the same count training will use (set once per process)
        device = choose_device(request.train.device)
        seconds, scaled = yield from _measure(estimated, request.train, device.type, flops_per_token)
        return ProbeResult(key, seconds, scaled, device.type, threads)
    except WorkbenchError as exc:
        return ProbeResult(key, problem=str(exc))
    except Exception as exc:  # e.g. out of memory on a GPU
        log.exception("timing %s failed", request)
        return ProbeResult(key, problem=f"the timing probe failed ({type(exc).__name__}: {exc})")


def probe_plan(spec: ModelSpec, train: TrainSpec, device_type: str,
               flops_per_token: float) -> tuple[int, int, float] | None:
    """None when a full step fits the budget; else (sequences, context, scale) of the measured
    micro-batch, `scale` being how many of its FLOPs one real micro-batch has."""
    budget = PROBE_FLOPS.get(device_type, PROBE_FLOPS["cpu"])
    block = spec.block_size
    if flops_per_token * block * train.batch_size * train.grad_accum <= budget:
        return None
    attention_per_token = 0 if spec.arch == "lstm" else 12 * spec.n_layer * spec.n_embd  # per context position
    tokens = max(1, int(budget // flops_per_token))
    if tokens >= block:
        sequences, context = min(train.batch_size, tokens // block), block
    else:
        sequences, context = 1, max(8, min(block, tokens))
    flops_small = flops_per_token - attention_per_token * (block - context)
    scale = (train.batch_size * block * flops_per_token) / (sequences * context * flops_small)
    return sequences, context, scale


def _measure(spec: ModelSpec, train: TrainSpec, device_type: str,
             flops_per_token: float) -> Generator[EstimateStage, None, tuple[float, bool]]:
    with heavy_imports():
        from workbench.core.training.estimates import probe_step_time
    plan = probe_plan(spec, train, device_type, flops_per_token)
    yield EstimateStage("probe")
    if plan is None:
        return probe_step_time(spec, train, device_type, steps=2), False
    sequences, context, scale = plan
    small = replace(spec, block_size=context)
    one = probe_step_time(small, replace(train, batch_size=sequences, grad_accum=1), device_type, steps=1)
    yield EstimateStage("probe")
    three = probe_step_time(small, replace(train, batch_size=sequences, grad_accum=3), device_type, steps=1)
    micro = (three - one) / 2
    if micro <= 0.1 * one:  # timing noise: count it all as per-token work (errs on the slow side)
        micro = one
    fixed = max(0.0, one - micro)
    return fixed + micro * scale * train.grad_accum, True
