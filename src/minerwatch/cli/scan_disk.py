"""`minerwatch scan-disk PATH...`: host-side evidence of Chia disk mining, as events and a console digest.

Findings stream from the walk to the event writers one by one; the console keeps a bounded digest."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable
from contextlib import ExitStack, closing

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from minerwatch.errors import InputError
from minerwatch.events import EventFactory
from minerwatch.hostscan.report import Digest, print_table, to_event
from minerwatch.hostscan.scanner import DEFAULT_MIN_SIZE, Scanner, ScanOptions, ScanStats
from minerwatch.hostscan.walker import walk
from minerwatch.output.jsonlines import JsonLinesWriter


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan-disk",
        help="look for Chia plots, plotting in progress and farming config on this host's disks",
        description=(
            "Walk the given trees and report Chia plot files (recognised by header, any name), temporary "
            "plot files of an unfinished or running plotter, Chia config and key stores, and plotter "
            "binaries. Reads a few KB per candidate file; stays on one filesystem; does not follow symlinks."
        ),
        epilog="Exit status: 0 nothing found, 1 evidence found, 2 usage error or a PATH that does not exist.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="directory or file to scan")
    p.add_argument("-o", "--output", metavar="FILE", help="write diskmining events as JSON lines to FILE")
    p.add_argument(
        "--json", action="store_true", help="write events as JSON lines to stdout (table to stderr)"
    )
    p.add_argument(
        "--host", default=None, help="host name to put in events (default: this machine's hostname)"
    )
    p.add_argument(
        "--min-size",
        type=int,
        default=DEFAULT_MIN_SIZE,
        metavar="BYTES",
        help=f"do not open files smaller than this unless named *.plot/*.plot2 (default {DEFAULT_MIN_SIZE})",
    )
    p.add_argument(
        "--growth",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="re-measure temporary plot files after SECONDS to show plotting is live (default: off)",
    )
    p.add_argument("--follow-symlinks", action="store_true", help="follow symlinks (loops are still avoided)")
    p.add_argument("--cross-filesystems", action="store_true", help="descend into other mounted filesystems")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=run)


def _progress(stack: ExitStack, console: Console, enabled: bool) -> Callable[[ScanStats], None] | None:
    """A live file counter on stderr, only when stderr is a terminal."""
    if not enabled or not console.is_terminal:
        return None
    progress = stack.enter_context(
        Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)
    )
    task = progress.add_task("scanning")
    return lambda stats: progress.update(
        task, description=f"{stats.files:,} files, {stats.headers_read:,} headers read"
    )


def run(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    if args.min_size < 0 or args.growth < 0:
        raise InputError("--min-size and --growth must not be negative")
    host = args.host or socket.gethostname()
    err_console = Console(stderr=True)
    table_console = err_console if args.json else Console()
    stats = ScanStats()
    digest = Digest()
    factory = EventFactory()
    with ExitStack() as stack:
        sinks = [stack.enter_context(closing(JsonLinesWriter(path))) for path in _sink_paths(args)]
        options = ScanOptions(
            min_size=args.min_size,
            follow_symlinks=args.follow_symlinks,
            growth_interval=args.growth,
            progress=_progress(stack, err_console, not args.no_progress),
        )
        files = walk(
            args.paths, stats, follow_symlinks=args.follow_symlinks, cross_filesystems=args.cross_filesystems
        )
        for finding in Scanner(options, stats).scan(files):
            event = to_event(factory, finding, host)
            for sink in sinks:
                sink.write(event)
            digest.add(finding)
    print_table(table_console, digest, stats)
    for sample in stats.error_samples:
        print(f"minerwatch: warning: {sample}", file=sys.stderr)
    return 1 if digest.total else 0


def _sink_paths(args: argparse.Namespace) -> list[str]:
    """Where events go as they are found: the -o file and/or standard output (--json)."""
    return ([args.output] if args.output else []) + (["-"] if args.json else [])
