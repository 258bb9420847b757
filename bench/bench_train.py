"""Training throughput and quality: LM Workbench's engine against a plain hand-written PyTorch loop.

    python bench/bench_train.py              # the full run: 2000 steps each, interleaved (several minutes)
    python bench/bench_train.py --steps 200  # a quick look
    python bench/bench_train.py --seed 1     # another seed for both runs (the loss varies by ~0.01)

The reference is nanoGPT's model and training loop transcribed here (exact GELU, nn.Dropout modules,
batches stacked row by row from a re-opened memmap, AdamW unfused on the CPU as nanoGPT chooses).
tinyshakespeare, character level, 4 layers, 4 heads, 128 dims, context 64, batch 12, lr 1e-3,
warmup 100, cosine to 1e-4, dropout 0, AdamW (0.9, 0.99), weight decay 0.1, clip 1.0. Prints tokens/s,
model FLOP utilisation against a matmul peak measured here, the validation loss at the last step
(both models on the whole validation split, every token predicted once), and the share of step time
spent writing the run's records. Goals: >= 1.1x the reference's tokens/s; validation loss at step
2000 <= 1.89. Both loops use every core (`--threads` to change), not the engine's thread probe.
The workbench run goes through the whole engine with its defaults for what the configuration leaves
open: project, import, tokenizer, `create_run`, `train`. Its batches are windows without replacement
(`core.training.batches.BatchSampler`), the reference's uniform random starts as in nanoGPT; its block
weights start at std 1/sqrt(fan_in) (`core.models.init_weights`), nanoGPT's at 0.02.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
SHAKE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
N_LAYER, N_HEAD, N_EMBD, BLOCK, BATCH = 4, 4, 128, 64, 12
LR, MIN_LR, WARMUP = 1e-3, 1e-4, 100


# ---- the reference: nanoGPT's model.py and train.py loop, transcribed (CPU path, no DDP) -----------

class RefLayerNorm(nn.Module):
    def __init__(self, ndim: int) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(ndim)), nn.Parameter(torch.zeros(ndim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class RefAttention(nn.Module):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD)
        self.c_proj = nn.Linear(N_EMBD, N_EMBD)
        self.resid_dropout = nn.Dropout(dropout)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(N_EMBD, dim=2)
        k = k.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        q = q.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        v = v.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
                                           is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class RefMLP(nn.Module):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.c_fc, self.gelu = nn.Linear(N_EMBD, 4 * N_EMBD), nn.GELU()
        self.c_proj, self.dropout = nn.Linear(4 * N_EMBD, N_EMBD), nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class RefBlock(nn.Module):
    def __init__(self, dropout: float) -> None:
        super().__init__()
        self.ln_1, self.attn = RefLayerNorm(N_EMBD), RefAttention(dropout)
        self.ln_2, self.mlp = RefLayerNorm(N_EMBD), RefMLP(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class RefGPT(nn.Module):
    def __init__(self, vocab: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, N_EMBD), wpe=nn.Embedding(BLOCK, N_EMBD), drop=nn.Dropout(dropout),
            h=nn.ModuleList([RefBlock(dropout) for _ in range(N_LAYER)]), ln_f=RefLayerNorm(N_EMBD)))
        self.lm_head = nn.Linear(N_EMBD, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * N_LAYER))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


def reference_lr(step: int, steps: int) -> float:
    if step < WARMUP:
        return LR * (step + 1) / (WARMUP + 1)
    ratio = min(1.0, (step - WARMUP) / max(1, steps - WARMUP))
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (LR - MIN_LR)


def reference_steps(train_bin: Path, dtype: str, windows: dict[str, np.ndarray], vocab: int, steps: int,
                    seed: int = 1337):
    """nanoGPT's loop; yields the seconds of each step, returns {name: validation loss on those windows}."""
    torch.manual_seed(seed)
    model = RefGPT(vocab)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                                  lr=LR, betas=(0.9, 0.99))  # nanoGPT: fused only on CUDA
    scaler = torch.amp.GradScaler("cuda", enabled=False)

    def get_batch() -> tuple[torch.Tensor, torch.Tensor]:
        data = np.memmap(train_bin, dtype=dtype, mode="r")  # re-opened per batch, as nanoGPT does
        ix = torch.randint(len(data) - BLOCK, (BATCH,))
        x = torch.stack([torch.from_numpy((data[i:i + BLOCK]).astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + BLOCK]).astype(np.int64)) for i in ix])
        return x, y

    X, Y = get_batch()
    for step in range(steps):
        started = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = reference_lr(step, steps)
        _, loss = model(X, Y)
        X, Y = get_batch()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        if step % 10 == 0 and not math.isfinite(loss.item()):  # nanoGPT reads the loss every log_interval
            raise RuntimeError("reference diverged")
        yield time.perf_counter() - started
    model.eval()
    return {name: windows_loss(lambda x, y: model(x, y)[0], w) for name, w in windows.items()}


def windows_loss(logits_of, windows: np.ndarray, batch: int = 64) -> float:
    """Mean next-token loss over windows of BLOCK + 1 tokens (the same code for both models)."""
    total = 0.0
    with torch.no_grad():
        for w in np.array_split(windows, max(1, len(windows) // batch)):
            x = torch.from_numpy(np.ascontiguousarray(w[:, :-1]).astype(np.int64))
            y = torch.from_numpy(np.ascontiguousarray(w[:, 1:]).astype(np.int64))
            logits = logits_of(x, y)
            total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1)).item() * len(w)
    return total / len(windows)


def whole_split_windows(tokens: np.ndarray) -> np.ndarray:
    """Every validation token predicted once: the windows the engine evaluates with --eval-batches 0."""
    from workbench.core.training.batches import EveryWindow

    return EveryWindow(tokens, BLOCK)[:]


# ---- measurements ---------------------------------------------------------------------------

def matmul_peak_gflops(size: int = 1024, seconds: float = 1.5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        done += 1
    return 2 * size**3 * done / (time.perf_counter() - started) / 1e9


def flops_per_token(n_params: int) -> float:
    """6N for the matmuls (N without the position table), plus attention's 12 * L * C * T (nanoGPT's MFU)."""
    return 6 * (n_params - BLOCK * N_EMBD) + 12 * N_LAYER * N_EMBD * BLOCK


def workbench_run(project: Path, steps: int, seed: int = 1337, threads: int = 0):
    """A project with tinyshakespeare and a char tokenizer, a queued run, and the `train` generator."""
    from workbench.core.base.events import run_to_end
    from workbench.core.base.specs import DatasetSpec, ModelSpec, TokenizerSpec, TrainSpec
    from workbench.core.ops.catalog import create_tokenizer, import_into_project
    from workbench.core.ops.run_setup import create_run
    from workbench.core.ops.training import train
    from workbench.core.project.store import ProjectStore

    store = ProjectStore.create(project)
    run_to_end(import_into_project(store, [SHAKE], DatasetSpec(name="shake")))
    run_to_end(create_tokenizer(store, "shake", TokenizerSpec(name="chars", kind="char")))
    model_spec = ModelSpec(arch="gpt2", n_layer=N_LAYER, n_head=N_HEAD, n_embd=N_EMBD, block_size=BLOCK, dropout=0.0)
    train_spec = TrainSpec(batch_size=BATCH, lr=LR, min_lr_ratio=MIN_LR / LR, warmup=WARMUP, max_steps=steps,
                           eval_interval=steps, eval_batches=0, device="cpu", precision="fp32", seed=seed,
                           num_threads=threads)
    _, run = run_to_end(create_run(store, dataset="shake", tokenizer="chars", model_spec=model_spec, train_spec=train_spec))
    return store, train(store, run["id"])


def interleaved(ours, reference, block: int = 25):
    """Run both loops in alternating blocks of steps, so a busy shared machine slows both alike.

    Our steps are timed from outside (each `next()` that returns a `StepLogged`, recording included);
    evaluation, samples and checkpoints are not counted, like the reference's final evaluation."""
    from workbench.core.base.events import StepLogged

    ours_events, ours_seconds, ref_seconds = [], [], []
    ours_result = ref_val = None
    while ours_result is None or ref_val is None:
        done_here = 0
        while ours_result is None and done_here < block:
            started = time.perf_counter()
            try:
                event = next(ours)
            except StopIteration as stop:
                ours_result = stop.value
                break
            ours_events.append(event)
            if isinstance(event, StepLogged):
                ours_seconds.append(time.perf_counter() - started)
                done_here += 1
        for _ in range(block):
            try:
                ref_seconds.append(next(reference))
            except StopIteration as stop:
                ref_val = stop.value
                break
    return ours_events, ours_result, ours_seconds, ref_val, ref_seconds


def recorder_share(store, step_events, train_seconds: float, steps: int) -> float:
    """Share of training time the run's records cost: the same events replayed into a scratch run of the
    same database, on a clock that follows the run's own (so the 1 s flush rule fires as it did)."""
    from workbench.core.base.events import EvalFinished
    from workbench.core.project.run_records import RunRecorder
    from workbench.core.project.store import now_iso

    run_id = store.insert("runs", {"name": "bench-replay", "arch": "gpt2", "model_spec": {}, "train_spec": {},
                                   "status": "queued", "dir": "runs/replay", "created": now_iso()})
    clock = [0.0]
    recorder = RunRecorder(store, run_id, clock=lambda: clock[0])
    recorder.start(0, resumed=False)
    spent = 0.0
    events = [*step_events, EvalFinished(step=steps, val_loss=1.0, val_ppl=math.e, best=True)]
    for event in events:
        clock[0] = getattr(event, "elapsed_s", clock[0])
        started = time.perf_counter()
        recorder.record(event)
        spent += time.perf_counter() - started
    return spent / train_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1337,
                        help="seeds both runs; the validation loss varies by about 0.01 from seed to seed")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for both loops (default: every core, as a plain script gets)")
    args = parser.parse_args()
    if not SHAKE.is_file():
        print(f"skipped: {SHAKE} is missing")
        return 0
    from workbench.core.base.devices import cpu_cores
    from workbench.core.base.events import EvalFinished, StepLogged

    threads = args.threads or cpu_cores()  # fixed, not the engine's probe: both loops must get the same
    torch.set_num_threads(threads)
    peak = matmul_peak_gflops()
    print(f"torch {torch.__version__}, {threads} thread(s); matmul peak fp32 {peak:.0f} GFLOP/s (measured now; "
          f"the machine may be shared, so every figure is noisy)")
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        store, ours = workbench_run(Path(tmp) / "b.wbproj", args.steps, args.seed, threads)
        vocab = store.get_tokenizer("chars")["vocab_size"]
        train_bin, dtype, val_tokens = _token_cache(store)
        windows = {"whole": whole_split_windows(val_tokens)}
        reference = reference_steps(train_bin, dtype, windows, vocab, args.steps, args.seed)
        events, result, ours_steps, ref_val, ref_steps = interleaved(ours, reference)
        step_events = [e for e in events if isinstance(e, StepLogged)]
        val_loss = [e.val_loss for e in events if isinstance(e, EvalFinished)][-1]
        seconds, ref_seconds = sum(ours_steps), sum(ref_steps)
        tps, ref_tps = len(ours_steps) * BATCH * BLOCK / seconds, len(ref_steps) * BATCH * BLOCK / ref_seconds
        median_ratio = statistics.median(ref_steps) / statistics.median(ours_steps)
        ours_whole = workbench_whole_split_loss(store, result.step, windows["whole"])
        flops = flops_per_token(sum(p.numel() for p in RefGPT(vocab).parameters()))  # same shapes as ours
        print(f"workbench: {tps:,.0f} tokens/s, MFU {tps * flops / (peak * 1e9):.0%}, val loss at step "
              f"{result.step} {val_loss:.4f} on the whole validation split as the run measured it (--eval-batches 0), "
              f"{ours_whole:.4f} with its checkpoint reloaded ({seconds:.1f} s of steps, status {result.status})")
        print(f"reference: {ref_tps:,.0f} tokens/s, MFU {ref_tps * flops / (peak * 1e9):.0%}, "
              f"val loss at step {args.steps} {ref_val['whole']:.4f} on the whole validation split "
              f"({ref_seconds:.1f} s of steps)")
        print(f"run records: {recorder_share(store, step_events, seconds, args.steps):.2%} of step time (goal <= 1%)")
        print(f"speed ratio {tps / ref_tps:.2f}x over all steps, {median_ratio:.2f}x by median step (goal >= 1.1x); "
              f"workbench val loss {val_loss:.4f} on the whole validation split (goal <= 1.89 at step 2000)")
        store.close()
    return 0


def workbench_whole_split_loss(store, step: int, windows: np.ndarray) -> float:
    """Our run's final checkpoint, evaluated by the same code as the reference."""
    from workbench.core.models.modeling import load_model_dir

    (row,) = [c for c in store.list_checkpoints(1) if c["step"] == step]
    model, _ = load_model_dir(store.path(row["dir"]), for_training=True)
    model.eval()
    return windows_loss(lambda x, _y: model(x).logits, windows)


def _token_cache(store) -> tuple[Path, str, np.ndarray]:
    """(train.bin, its dtype, validation tokens) of the tinyshakespeare char cache."""
    cache = store.get_token_cache(store.get_dataset("shake")["id"], store.get_tokenizer("chars")["id"])
    folder = store.path(cache["dir"])
    return folder / "train.bin", cache["dtype"], np.fromfile(folder / "val.bin", dtype=cache["dtype"])


if __name__ == "__main__":
    sys.exit(main())
