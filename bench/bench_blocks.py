"""Why the decoder multiplies by column blocks: one-row matmuls over GPT-2 small's 48 weights.

    python bench/bench_blocks.py              # 40 rounds, one thread (the window's choice on 2 cores)
    python bench/bench_blocks.py --threads 4

Each round times, back to back: reading every weight once (`sum`, the memory's speed: a floor no
product can beat), `torch.addmm(bias, row, W)` as transformers' Conv1D runs it, and the same product
through `column_blocks.BlockedLinear`. Prints the median time, the GB/s of weights it implies and
the median over rounds of addmm's time / the other's; checks that both products agree.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from workbench.core.inference import column_blocks

C = 768
SHAPES = [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C)] * 12  # attention in, out; MLP in, out; 12 layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with torch.inference_mode():
        weights = [(torch.randn(shape) * 0.02, torch.randn(shape[1]) * 0.02) for shape in SHAPES]
        linears = [column_blocks.with_blocks(column_blocks.conv1d(w, b)) for w, b in weights]
        rows = {n: torch.randn(1, n) for n in (C, 4 * C)}
        flat = torch.cat([w.reshape(-1) for w, _ in weights])
        for (w, b), linear in zip(weights, linears, strict=True):
            torch.testing.assert_close(linear(rows[w.shape[0]]), torch.addmm(b, rows[w.shape[0]], w))
        ways = {"sum (read only)": lambda: flat.sum(),
                "addmm": lambda: [torch.addmm(b, rows[w.shape[0]], w) for w, b in weights],
                "column blocks": lambda: [linear(rows[linear.weight.shape[0]]) for linear in linears]}
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, way in ways.items():
                start = time.perf_counter()
                way()
                times[name].append(time.perf_counter() - start)
    gigabytes = flat.numel() * 4 / 1e9
    print(f"{len(SHAPES)} weights, {gigabytes * 1000:.0f} MB, torch threads {torch.get_num_threads()}, "
          f"{args.rounds} rounds; addmm and the blocks agree within float rounding")
    for name, spent in times.items():
        ratio = statistics.median(a / b for a, b in zip(times["addmm"], spent, strict=True))
        median = statistics.median(spent)
        print(f"{name:<16} {median * 1000:7.2f} ms  {gigabytes / median:5.1f} GB/s  x{ratio:.2f} vs addmm")


if __name__ == "__main__":
    main()
