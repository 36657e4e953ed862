"""Entry point: parse the command line, run a subcommand, turn known errors into one line and exit code 2.

Exit codes (documented in README): 0 nothing found, 1 something found (mining, plots...), 2 usage or input
error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from minerwatch import __version__
from minerwatch.errors import MinerwatchError

# Each module defines register(subparsers) -> None and sets `func` on its parser (args -> exit code).
SUBCOMMANDS = ("analyze", "live", "report", "sample", "intel", "scan-disk", "rules", "incidents")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minerwatch",
        description="Find hosts secretly turned into cryptocurrency miners, with the evidence.",
        epilog="Exit status: 0 nothing found, 1 mining (or other findings) found, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"minerwatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"minerwatch.cli.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except MinerwatchError as exc:
        print(f"minerwatch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("minerwatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
