"""Where to run: device choice, memory readings, mixed precision, CPU thread count."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import psutil
import torch
import torch.nn.functional as F

from workbench.core.base.errors import InvalidSpecError

_chosen_threads: int | None = None


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def choose_device(preference: str = "auto") -> torch.device:
    """"auto": CUDA, else Apple's MPS, else the CPU. An explicit choice that is absent is an error."""
    preference = (preference or "auto").strip().lower()
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if preference == "cpu":
        return torch.device("cpu")
    if preference.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
            raise InvalidSpecError(
                f"--device {preference} was asked for but PyTorch sees no CUDA GPU (torch {torch.__version__}, "
                f"{build}): use --device cpu or auto, or install an NVIDIA driver and a CUDA build of PyTorch")
        device = torch.device(preference)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InvalidSpecError(f"--device {preference}: this machine has {torch.cuda.device_count()} "
                                   f"CUDA device(s), numbered from 0")
        return device
    if preference == "mps":
        if not _mps_available():
            raise InvalidSpecError("--device mps was asked for but Apple's Metal (MPS) backend is not "
                                   "available here (it needs a Mac with Apple silicon and macOS 12.3+): "
                                   "use --device cpu or auto")
        return torch.device("mps")
    raise InvalidSpecError(f"unknown device {preference!r}: use auto, cpu, cuda or mps")


def memory_mb(device: str | torch.device) -> float:
    """Memory this process uses on `device`: the allocator's on GPUs, the resident set on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.memory_allocated(device) / 2**20
    if device.type == "mps":
        return torch.mps.current_allocated_memory() / 2**20
    return psutil.Process().memory_info().rss / 2**20  # resident now (not the peak), on every OS


def total_memory_bytes(device: str | torch.device) -> int:
    """The device's memory: a GPU's total, MPS's recommended maximum, else the machine's RAM."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device.index or 0).total_memory)
    if device.type == "mps" and hasattr(torch.mps, "recommended_max_memory"):
        return int(torch.mps.recommended_max_memory())
    return int(psutil.virtual_memory().total)


def available_memory_bytes(device: str | torch.device) -> int:
    """Memory a new run could still take: free GPU memory, else RAM the system can give without
    swapping (psutil's "available": free plus reclaimable caches, on every OS)."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    available = int(psutil.virtual_memory().available)
    if device.type == "mps":  # unified memory: what the system can give, up to Metal's own ceiling
        return min(available, total_memory_bytes(device))
    return available


def resolve_precision(device: torch.device, precision: str) -> str:
    """"fp32", "bf16" or "fp16" for this device. "auto" is bf16 on CUDA GPUs that support it (fp16 on
    older ones, which then need a GradScaler), fp32 elsewhere."""
    device = torch.device(device)
    if precision == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if precision not in ("fp32", "bf16", "fp16"):
        raise InvalidSpecError(f"unknown precision {precision!r}: use fp32, bf16, fp16 or auto")
    if precision == "fp16" and device.type == "cpu":
        raise InvalidSpecError("fp16 is for GPUs: on the CPU use bf16 (fast on CPUs with AVX-512 BF16 "
                               "or AMX) or fp32")
    return precision


def autocast(device: torch.device, precision: str):
    """Context manager for the forward pass: autocast to bf16/fp16, or nothing for fp32."""
    device = torch.device(device)
    chosen = resolve_precision(device, precision)
    if chosen == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if chosen == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # respects taskset / container CPU limits
    except AttributeError:
        return os.cpu_count() or 1


def _default_probe_step() -> Callable[[], None]:
    """A small transformer-like forward+backward (matmuls + elementwise), about 5 ms on one core."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(512, 128, generator=gen)
    w1 = torch.randn(128, 512, generator=gen, requires_grad=True)
    w2 = torch.randn(512, 128, generator=gen, requires_grad=True)

    def step() -> None:
        (F.gelu(x @ w1) @ w2).square().mean().backward()
    return step


def choose_num_threads(probe: bool = True, step: Callable[[], None] | None = None, keep_free: int = 1) -> int:
    """Pick torch's intra-op thread count and set it once, for the whole process.

    `keep_free` cores stay free (1 for the GUI; a headless run may pass 0). With several candidates,
    a short probe (< 1 s) times `step` (default: a small transformer-like forward+backward) with each
    and keeps the fastest: on small models, and on a busy machine, extra threads often cost more in
    synchronisation than they give (DESIGN.md section 3). Later calls return the first choice unless
    they bring their own `step`."""
    global _chosen_threads
    if _chosen_threads is not None and step is None:
        return _chosen_threads
    limit = max(1, cpu_cores() - keep_free)
    candidates = sorted({n for n in (1, 2, 4, 8, 16, 32, limit) if n <= limit})
    best = limit
    if probe and len(candidates) > 1:
        step = step or _default_probe_step()
        for n in candidates:  # warm-up: thread pool start, allocations
            torch.set_num_threads(n)
            step()
        # Candidates take turns, one step each, and each keeps its median: a hiccup of a shared
        # machine then slows one step of each instead of deciding for the one it fell on.
        timings: dict[int, list[float]] = {n: [] for n in candidates}
        started = time.perf_counter()
        while len(timings[candidates[0]]) < 5 or (time.perf_counter() - started < 0.8
                                                  and len(timings[candidates[0]]) < 50):
            for n in candidates:
                torch.set_num_threads(n)
                step()  # the first step after a switch pays for waking or parking threads: not timed
                begin = time.perf_counter()
                step()
                timings[n].append(time.perf_counter() - begin)
        best = min(candidates, key=lambda n: statistics.median(timings[n]))
    torch.set_num_threads(best)
    _chosen_threads = best
    return best


class CompiledOrEager(torch.nn.Module):
    """`torch.compile` as an option: runs the compiled model, and if compiling fails (no C++ compiler,
    a frozen app where it hangs, an unsupported op) runs the plain model from then on.

    Off by default: on the 2-core dev CPU it gained ~4% at 4 layers / 128 dims after ~25 s of
    compiling. The plain model stays in `.module` (what `modeling.unwrap` and checkpoints see)."""

    _compiled: Callable[..., Any]  # set with object.__setattr__ below; declared for the type checker

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.module = model
        self.error: str | None = None
        # kept out of the module tree, so parameters and state_dict are the plain model's only
        object.__setattr__(self, "_compiled", torch.compile(model))

    def forward(self, *args, **kwargs):
        if self.error is None:
            try:
                return self._compiled(*args, **kwargs)
            except Exception as exc:  # torch._dynamo / inductor raise many kinds
                self.error = f"{type(exc).__name__}: {exc}"
        return self.module(*args, **kwargs)


def compile_model(model: torch.nn.Module, enabled: bool = False) -> torch.nn.Module:
    """The model wrapped in `CompiledOrEager` when enabled and possible, else the model itself."""
    frozen = getattr(sys, "frozen", False)  # PyInstaller: torch.compile hangs there (DESIGN.md section 9)
    if not enabled or frozen or os.environ.get("TORCHDYNAMO_DISABLE") == "1" or not hasattr(torch, "compile"):
        return model
    try:
        return CompiledOrEager(model)
    except Exception:  # torch.compile itself refused (unsupported Python version, ...)
        return model
