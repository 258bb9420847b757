"""Command line: `workbench SUBCOMMAND ...`; no subcommand opens the GUI (DESIGN.md section 5).

Each subcommand lives in a module of `workbench.commands` that offers `register(subparsers)`; the
handler it sets with `set_defaults(handler=...)` returns an exit code. A `WorkbenchError` becomes
one `error: ...` line on stderr and exit code 2, with the project left as it was.
"""

from __future__ import annotations

import argparse
import os
import sys

from workbench import __version__
from workbench.commands import checkpoints, data, evaluate, project, train
from workbench.commands import inspect as inspect_commands  # not the standard library's `inspect`
from workbench.commands.common import bound_numeric_flags, printable

# Each registers one or more subcommands, in this order in `workbench --help`.
COMMAND_MODULES = (project, data, train, checkpoints, inspect_commands, evaluate)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one `error:` line (exit 2) like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {printable(message)} (see `{self.prog} --help`)\n")  # it quotes arguments
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="workbench", description="LM Workbench: build small language models end to end.")
    parser.add_argument("--version", action="version", version=f"lm-workbench {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the GUI on the built-in demo project and start training")
    parser.add_argument("--self-test", action="store_true", help="run a headless end-to-end check and exit")
    parser.add_argument("--json", action="store_true", dest="self_test_json",
                        help="with --self-test: print one JSON document with each stage's result")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the GUI")
    gui.add_argument("project", nargs="?", help="project folder to open")
    for module in COMMAND_MODULES:
        module.register(sub)
    bound_numeric_flags(sub)  # ranges from specs.LIMITS: a bad number stops here, before a project opens
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `workbench PROJECT` opens the GUI on that project: an argument that is not a subcommand.
    known = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()  # type: ignore[arg-type]
    if argv and not argv[0].startswith("-") and argv[0] not in known:
        argv = ["gui", *argv]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (exit 2), --help and --version (exit 0)
        return exc.code if isinstance(exc.code, int) else 2
    from workbench.core.base.errors import WorkbenchError

    try:
        if args.self_test:
            from workbench.selftest import run_self_test

            return run_self_test(main, as_json=args.self_test_json)
        if args.command in (None, "gui"):
            return _run_gui(getattr(args, "project", None), demo=args.demo)
        return int(args.handler(args) or 0)
    except WorkbenchError as exc:
        sys.stderr.write(f"error: {printable(str(exc))}\n")  # messages quote names from the project
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # a write without its own message met a full disk: still one line
        from workbench.core.base.disk import is_disk_full

        if not is_disk_full(exc):
            raise
        where = f" writing {exc.filename}" if isinstance(exc, OSError) and exc.filename else ""
        sys.stderr.write(f"error: the disk is full{printable(where)}; free some space and try again\n")
        return 2


def _run_gui(project: str | None, demo: bool) -> int:
    from workbench.ui.system_libs import missing_library_message, tell_desktop

    problem = missing_library_message()  # else Qt aborts the process with a plugin error
    if problem:
        sys.stderr.write(f"error: {problem}\n")
        tell_desktop(problem)
        return 2
    try:
        from workbench.app import run_app
    except ImportError as exc:
        sys.stderr.write(f"error: the GUI is not available ({exc}); use the subcommands (`workbench --help`)\n")
        return 2
    return run_app(project=project, demo=demo, argv=[sys.argv[0], *os.environ.get("WORKBENCH_QT_ARGS", "").split()])


if __name__ == "__main__":
    raise SystemExit(main())
