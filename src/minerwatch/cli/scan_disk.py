"""`minerwatch scan-disk PATH...`: host-side evidence of Chia disk mining, as events and a console digest.

Findings stream from the walk to the event writers one by one; the console keeps a bounded digest."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable
from contextlib import ExitStack

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from minerwatch.cli.options import duration, whole
from minerwatch.cli.outputs import event_sinks
from minerwatch.errors import InputError, OutputError
from minerwatch.events import EventFactory
from minerwatch.hostscan.report import Digest, print_table, to_event
from minerwatch.hostscan.scanner import DEFAULT_MIN_SIZE, Scanner, ScanOptions, ScanStats
from minerwatch.hostscan.walker import walk
from minerwatch.output.terminal import visible


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan-disk",
        help="look for Chia plots, plotting in progress and farming config on this host's disks",
        description=(
            "Walk the given trees and report Chia plot files (recognised by header, any name), temporary "
            "plot files of an unfinished or running plotter, Chia config and key stores, and plotter "
            "binaries. Reads a few KB per candidate file; stays on one filesystem; does not follow symlinks."
        ),
        epilog="Exit status: 0 nothing found, 1 evidence found, 2 usage error, a PATH that does not exist, "
        "an output that could not be written, or an internal error.",
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
        type=whole(0, 1 << 50),
        default=DEFAULT_MIN_SIZE,
        metavar="BYTES",
        help=f"do not open files smaller than this unless named *.plot/*.plot2 (default {DEFAULT_MIN_SIZE})",
    )
    p.add_argument(
        "--growth",
        type=duration(zero=True, maximum=86_400),
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
    host = args.host or socket.gethostname()
    err_console = Console(stderr=True)
    table_console = err_console if args.json else Console()
    stats = ScanStats()
    digest = Digest()
    factory = EventFactory()
    with ExitStack() as stack:
        sinks = event_sinks(stack, args.output, args.json, args.paths)  # before the scan: fail early
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
                sink(event)
            digest.add(finding)
    try:
        print_table(table_console, digest, stats)
        for sample in stats.error_samples:
            print(f"minerwatch: warning: {visible(sample)}", file=sys.stderr)
    except OSError as exc:
        raise OutputError(f"cannot write the table: {exc.strerror or exc}") from None
    return 1 if digest.total else 0
