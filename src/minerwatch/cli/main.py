"""Entry point: parse the command line, run a subcommand, turn every error into one line and an exit code.

Exit codes (documented in README): 0 nothing found, 1 something found (mining, plots...), 2 usage, input or
output error, or an internal error (a bug: never allowed to look like a finding), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback

from minerwatch import __version__
from minerwatch.errors import MinerwatchError, OutputError
from minerwatch.output.terminal import visible

# Each module defines register(subparsers) -> None and sets `func` on its parser (args -> exit code).
SUBCOMMANDS = (
    "analyze",
    "live",
    "ingest",
    "correlate",
    "report",
    "sample",
    "intel",
    "scan-disk",
    "rules",
    "incidents",
    "model",
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of `command` alone: then only its module is imported (analyze
    needs neither the bus, the report nor the ingest code, a quarter of its start-up)."""
    parser = argparse.ArgumentParser(
        prog="minerwatch",
        description="Find hosts secretly turned into cryptocurrency miners, with the evidence.",
        epilog="Exit status: 0 nothing found, 1 mining (or other findings) found, 2 usage, input or output "
        "error (or an internal error), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"minerwatch {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an internal error, print the traceback too")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS if command is None else (command,):
        importlib.import_module(f"minerwatch.cli.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        if sys.stdout is None:
            raise OutputError("standard output is closed")
        code = int(args.func(args))
        _flush_stdout()
        return code
    except MinerwatchError as exc:
        return _fail(f"error: {exc}", exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except OSError as exc:  # the environment (a full disk, a closed pipe), not a bug
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"error: {exc.strerror or exc}{where}", 2)
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        return _fail(f"internal error: {type(exc).__name__}: {exc} (--debug shows where)", 2)


def _command(argv: list[str]) -> str | None:
    """The subcommand `argv` names (its first word that is no option: the top-level options take no
    value), or None: no or an unknown command, which the whole parser explains."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in SUBCOMMANDS else None


def _flush_stdout() -> None:
    """Buffered output that cannot be written (a full disk, a closed pipe) is an error now, not a traceback
    when the interpreter exits."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def _fail(message: str, code: int) -> int:
    """One line on stderr. If standard output is what failed, what is still buffered for it is dropped
    (pointed at /dev/null), so that the interpreter's last flush does not print a traceback."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if sys.stderr is not None:  # closed: the exit status still says it
        with contextlib.suppress(OSError):  # full: idem
            print(f"minerwatch: {visible(message)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
