"""`minerwatch report EVENTS.jsonl`: the analyst's report of an analysis, from the events it wrote."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minerwatch.correlate.store import IncidentStore
from minerwatch.errors import InputError
from minerwatch.intel.formats.base import Problems
from minerwatch.output.jsonlines import read_events
from minerwatch.output.report import FORMATS, ReportBuilder, render
from minerwatch.output.secrets import mask_event
from minerwatch.output.terminal import visible


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write the analyst's report (HTML, Markdown or JSON) from an events file",
        description="Write the report of an analysis from the events it wrote (analyze -o EVENTS.jsonl): "
        "incidents with their kill-chain stages, timeline, attackers, pools, evidence and what to do. "
        "The HTML page is self-contained and makes no network request.",
        epilog="Exit status: 0 report written, 2 usage error or an unreadable events file.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "events",
        nargs="?",
        metavar="EVENTS",
        help="events file written by `minerwatch analyze -o` ('-': stdin)",
    )
    source.add_argument(
        "--store", metavar="FILE", help="report the incidents kept in this incident store instead (no events)"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", default="-", help="write the report to FILE (default stdout)"
    )
    p.add_argument("--format", choices=FORMATS, default="html", help="html (default), markdown or json")
    p.add_argument(
        "--show-secrets",
        action="store_true",
        help="keep secrets an events file written with `analyze --show-secrets` holds (default: masked)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    builder = ReportBuilder()
    if args.store:
        with IncidentStore.open(args.store, create=False) as store:
            for incident in store.list():
                builder.add_stored(incident)
        write_report(builder, args.output, args.format)
        return 0
    problems = Problems()
    try:
        with (
            open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
            if args.events == "-"
            else Path(args.events).open(encoding="utf-8", errors="replace")
        ) as stream:
            for _, event in read_events(stream, problems):
                builder(event if args.show_secrets else mask_event(event))
    except OSError as exc:
        raise InputError(f"cannot read events from {visible(args.events)}: {exc.strerror or exc}") from None
    if not builder.types:
        raise InputError(f"{visible(args.events)}: no minerwatch event in it ({problems.count} bad lines)")
    if problems.count:
        where, reason = problems.samples[0]
        print(
            f"minerwatch: warning: {visible(args.events)}: {problems.count} lines skipped"
            f" (the first, line {where}: {reason})",
            file=sys.stderr,
        )
    write_report(builder, args.output, args.format)
    return 0


def write_report(builder: ReportBuilder, output: str, form: str) -> None:
    """The report in `form` to a file or ('-') stdout."""
    content = render(builder.build(), form)
    if output == "-":
        sys.stdout.buffer.write(content)
    else:
        Path(output).write_bytes(content)
