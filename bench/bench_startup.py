"""Start-up time: process start to the first painted main window (goal: 1.5 s or less).

Runs `python -m workbench` several times in fresh processes with WORKBENCH_STARTUP_PROBE=1, which
makes the app print the wall-clock time of its first paint and quit. The parent takes the time just
before starting each process, so interpreter start-up and every import count. Prints each run and
the median, once with no project and once opening a project.

    python bench/bench_startup.py [--runs 7]
    python bench/bench_startup.py --exe dist/lm-workbench/lm-workbench --runs 5 --json   # a frozen app

`--exe` times a built app (packaging/build.sh --check does) instead of `python -m workbench`;
`--json` adds one JSON line with the medians for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def first_paint_s(app: list[str], args: list[str], env: dict[str, str]) -> float:
    start = time.time()
    proc = subprocess.run([*app, *args], env=env, capture_output=True, text=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith("first-paint "):
            return float(line.split()[1]) - start
    raise RuntimeError(f"no first-paint line (exit {proc.returncode}): {proc.stderr[-1500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--exe", help="a built app's executable to time instead of `python -m workbench`")
    parser.add_argument("--json", action="store_true", help="also print the medians as one JSON line")
    opts = parser.parse_args()
    app = [str(Path(opts.exe).resolve())] if opts.exe else [sys.executable, "-m", "workbench"]
    with tempfile.TemporaryDirectory(prefix="wb-bench-startup-") as tmp:
        env = {**os.environ, "WORKBENCH_STARTUP_PROBE": "1", "WORKBENCH_HOME": str(Path(tmp) / "home")}
        env.setdefault("QT_QPA_PLATFORM", "offscreen" if sys.platform.startswith("linux") and
                       not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") else "")
        if not env["QT_QPA_PLATFORM"]:
            del env["QT_QPA_PLATFORM"]
        project = Path(tmp) / "bench.wbproj"
        subprocess.run([*app, "new", str(project)], check=True, capture_output=True, env=env)
        first_paint_s(app, [], env)  # warm the OS file cache once; not counted
        results = {}
        for label, args in (("no project", []), ("with a project", [str(project)])):
            times = [first_paint_s(app, args, env) for _ in range(opts.runs)]
            results[label] = statistics.median(times)
            print(f"{label:15s} runs: " + " ".join(f"{t:.2f}" for t in times) + f"  median {results[label]:.2f} s")
    platform = env.get("QT_QPA_PLATFORM", "native")
    print(f"startup to first paint (median of {opts.runs}, Qt platform {platform}): "
          f"{results['no project']:.2f} s empty, {results['with a project']:.2f} s with a project; goal <= 1.5 s")
    if opts.json:
        print(json.dumps({"runs": opts.runs, "empty_s": round(results["no project"], 3),
                          "project_s": round(results["with a project"], 3), "app": " ".join(app)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
