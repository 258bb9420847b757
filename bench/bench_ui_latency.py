"""GUI responsiveness while a CPU-heavy job runs: event-loop delay in the GUI thread.

A QTimer in the GUI thread asks to fire every 10 ms; the delay of each firing past its due time is
what a user feels as lag (p50, p99, max). Meanwhile a GeneratorWorker runs either the real training
loop on the small config (4 layers, 4 heads, 128 dims, context 64, batch 12) on tinyshakespeare,
when `workbench.core.training` is there, or else a pure-torch busy loop (512x512 matmuls). Its
events flow through the JobRunner into a LossPlot exactly as in the window (batched at 10 Hz).

    python bench/bench_ui_latency.py [--seconds 10] [--busy]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from workbench.core.events import StepLogged  # noqa: E402
from workbench.engine.runner import JobRunner  # noqa: E402
from workbench.ui.widgets.curves import LossPlot  # noqa: E402

PROBE_MS = 10
SHAKE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


class LoopProbe(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self.tick)
        self.last = 0.0

    def start(self) -> None:
        self.delays.clear()
        self.last = time.perf_counter()
        self.timer.start()

    @Slot()
    def tick(self) -> None:
        now = time.perf_counter()
        self.delays.append(max(0.0, now - self.last - PROBE_MS / 1000))
        self.last = now


class Sink(QObject):
    def __init__(self, plot: LossPlot) -> None:
        super().__init__()
        self.plot = plot
        self.steps = 0
        self.first_step_at: float | None = None

    @Slot(int, str, object)
    def on_progress(self, _job: int, _lane: str, events: tuple) -> None:
        steps = [e for e in events if isinstance(e, StepLogged)]
        if steps:
            self.first_step_at = self.first_step_at or time.perf_counter()
            self.steps += len(steps)
            self.plot.append("loss", [e.step for e in steps], [e.loss for e in steps])


def busy_loop():
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))  # the app's policy: a core for the GUI
    a = torch.randn(512, 512)
    step = 0
    while True:
        step += 1
        b = a @ a
        yield StepLogged(step=step, loss=float(b[0, 0]) % 5, lr=0.0, grad_norm=0.0, tokens_per_s=0.0)


def training_job(tmp: Path):
    from workbench.core.catalog import import_into_project
    from workbench.core.specs import DatasetSpec, ModelSpec, TrainSpec
    from workbench.core.store import ProjectStore
    from workbench.ui.backends import training_job as window_training_job

    store = ProjectStore.create(tmp / "bench.wbproj")
    yield from import_into_project(store, [str(SHAKE)], DatasetSpec(name="shake"))
    model = ModelSpec(arch="gpt2", n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0)
    train = TrainSpec(batch_size=12, max_steps=100_000, eval_interval=100_000, device="cpu")
    return (yield from window_training_job(store, "shake", "", model, train, threading.Event()))


def percentiles(delays: list[float]) -> str:
    ms = np.asarray(delays) * 1000
    return f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--busy", action="store_true", help="use the torch busy loop even if training exists")
    opts = parser.parse_args()
    app = QApplication(sys.argv[:1])
    plot = LossPlot()
    plot.resize(900, 400)
    plot.show()
    probe = LoopProbe()
    runner = JobRunner()
    sink = Sink(plot)
    runner.jobProgress.connect(sink.on_progress)
    tmp = Path(tempfile.mkdtemp(prefix="wb-bench-latency-"))
    use_training = not opts.busy and SHAKE.is_file() and _training_available()
    try:
        probe.start()
        _run_for(app, 2.0)
        idle = list(probe.delays)
        factory = functools.partial(training_job, tmp) if use_training else busy_loop
        job = runner.start("train", factory, name="bench")
        while sink.first_step_at is None and job.is_active:  # setup (imports, encoding) not counted
            _run_for(app, 0.1)
        probe.start()
        steps_before = sink.steps
        started = time.perf_counter()
        _run_for(app, opts.seconds)
        busy = list(probe.delays)
        rate = (sink.steps - steps_before) / (time.perf_counter() - started)
        runner.stop_all(wait=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import torch

    what = ("training loop, 4 layers/4 heads/128 dims, context 64, batch 12" if use_training
            else "pure-torch busy loop (512x512 matmul per yield)")
    print(f"job: {what}; torch threads {torch.get_num_threads()} of {os.cpu_count()} cores")
    print(f"idle:      {percentiles(idle)} over {len(idle)} ticks")
    print(f"under job: {percentiles(busy)} over {len(busy)} ticks; {rate:.1f} steps/s")
    if use_training:
        steps = max(50, int(rate * opts.seconds))
        for threads in (torch.get_num_threads(), None):
            headless = headless_steps_per_s(steps, threads)
            label = f"{threads} thread(s), as in the app" if threads else "threads chosen by its probe"
            print(f"headless `workbench train`, {label}: {headless:.1f} steps/s; in the app / headless "
                  f"{rate / headless:.2f}x (goal >= 0.95x)")
    return 0


def headless_steps_per_s(steps: int, threads: int | None) -> float:
    """Steps per second of the same configuration through the command line (setup not counted)."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="wb-bench-headless-") as tmp:
        project = Path(tmp) / "h.wbproj"
        wb = [sys.executable, "-m", "workbench"]
        subprocess.run([*wb, "new", str(project)], check=True, capture_output=True)
        subprocess.run([*wb, "import", str(project), str(SHAKE), "--name", "shake"], check=True, capture_output=True)
        cmd = [*wb, "train", str(project), "--dataset", "shake", "--arch", "gpt2", "--n-layer", "4", "--n-head", "4",
               "--n-embd", "128", "--block-size", "64", "--batch-size", "12", "--dropout", "0", "--device", "cpu",
               "--max-steps", str(steps), "--eval-interval", str(steps * 10), "--json"]
        if threads:
            cmd += ["--threads", str(threads)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        times = []
        for line in proc.stdout:
            if '"event": "step"' in line:
                times.append(time.perf_counter())
        proc.wait()
    times = times[len(times) // 10:]  # skip warm-up steps
    return (len(times) - 1) / (times[-1] - times[0])


def _training_available() -> bool:
    from workbench.ui.backends import IMPORT, TRAINING

    return not TRAINING.status() and not IMPORT.status()


def _run_for(app: QApplication, seconds: float) -> None:
    """Run the real event loop (not a processEvents poll) for `seconds`."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


if __name__ == "__main__":
    raise SystemExit(main())
