"""The first code that runs: `python -m workbench`, the `workbench` script and the frozen app.

Inside a PyInstaller bundle (`sys.frozen`) there is no Python interpreter to hand arguments to, so
the app itself must stand in for one where other programs expect it to:

- `multiprocessing.freeze_support()`: a child process that multiprocessing starts with the app's
  executable runs its task and exits instead of opening a second window.
- `APP -m torch.distributed.run ARGS` runs torchrun's entry point in this process, so a training run
  can be scaled out with the bundle's own executable as the launcher; `APP -u -m workbench ARGS`
  (what `torchrun -m workbench ARGS` starts for each worker) runs the command line, the way
  `python -m workbench` does.
- `TORCHDYNAMO_DISABLE=1` before torch loads: `torch.compile` hangs inside the bundle (DESIGN.md
  section 9); the compile option then runs the model eagerly.

Nothing here imports Qt, torch or transformers before it knows it needs them.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, MutableMapping

# What `APP -m MODULE ARGS` may run inside the bundle, and how; anything else is refused.
RUNNABLE_MODULES = ("torch.distributed.run", "workbench")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def prepare_frozen_environment(env: MutableMapping[str, str]) -> None:
    """Environment for torch inside the bundle; values the user set on purpose are kept."""
    env.setdefault("TORCHDYNAMO_DISABLE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from the Rust tokenizers


def module_request(argv: list[str]) -> tuple[str, list[str]] | None:
    """(module, its arguments) for `-m MODULE ARGS...` (as a Python interpreter takes it), else None.
    A leading `-u` is skipped: torchrun starts each worker as `EXECUTABLE -u -m MODULE ...`."""
    while argv[:1] == ["-u"]:
        argv = argv[1:]
    if len(argv) >= 2 and argv[0] == "-m":
        return argv[1], argv[2:]
    if argv and argv[0].startswith("-m") and len(argv[0]) > 2:  # `-mtorch.distributed.run`
        return argv[0][2:], argv[1:]
    return None


def run_module(module: str, args: list[str]) -> int:
    """Run one of RUNNABLE_MODULES with `args` the way `python -m module args` would."""
    if module == "torch.distributed.run":
        from torch.distributed import run as torchrun

        sys.argv = [module, *args]
        torchrun.main(args)  # raises SystemExit / ChildFailedError on failure, like `torchrun`
        return 0
    if module == "workbench":
        return _cli_main()(args)
    sys.stderr.write(f"error: this app can run only {', '.join(RUNNABLE_MODULES)} with -m, not {module!r}\n")
    return 2


def _cli_main() -> Callable[[list[str] | None], int]:
    from workbench.cli import main

    return main


def give_streams_somewhere() -> None:
    """A windowed executable (Windows, macOS) starts with no stdout/stderr (None): a print or a
    warning would raise. They go to the null device; the log file keeps what matters."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115  (lives as long as the app)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    give_streams_somewhere()
    multiprocessing.freeze_support()  # returns at once unless this process is a multiprocessing child
    if is_frozen():
        prepare_frozen_environment(os.environ)
        request = module_request(argv)
        if request is not None:
            return run_module(*request)
    return _cli_main()(argv)
