"""`minerwatch ingest LOG...`: incidents from Suricata EVE JSON and Zeek logs (docs/ingest.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from minerwatch.cli.options import (
    add_disk_findings_option,
    add_intel_options,
    add_output_options,
    add_store_options,
    check_disk_findings,
    chosen_store,
)
from minerwatch.cli.outputs import event_sinks
from minerwatch.correlate.incidents import IncidentPolicy
from minerwatch.errors import OutputError
from minerwatch.events import Event
from minerwatch.ingest import IngestSession, ingest
from minerwatch.intel import IntelMatcher
from minerwatch.output.console import FindingDigest, render_findings, render_problems


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ingest",
        help="build incidents from Suricata EVE JSON and Zeek logs",
        description="Read Suricata EVE JSON (alert, flow, dns, tls, fileinfo) and Zeek logs (conn, dns, ssl, "
        "notice, intel, files; TSV or JSON, gzip too) and correlate what they report into the kill chain: "
        "the same incident, host and verdict events as `analyze`. Each finding is restated as an alert "
        "event naming the sensor, file and line.",
        epilog="Exit status: 0 nothing found, 1 an incident found, 2 usage error, a log that could not be "
        "read (the others were still read) or an output that could not be written.",
    )
    p.add_argument("logs", nargs="+", type=Path, metavar="LOG", help="eve.json, conn.log, dns.log.gz, ...")
    add_output_options(p)
    add_intel_options(p)
    add_store_options(p)
    add_disk_findings_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_disk_findings(args.disk_findings, [args.output])
    matcher = IntelMatcher() if args.no_intel else IntelMatcher.load(args.intel_db)
    digest = FindingDigest()
    with ExitStack() as stack:
        sinks: list[Callable[[Event], None]] = [
            digest,
            *event_sinks(stack, args.output, args.json, args.logs),
        ]
        policy = IncidentPolicy(retention=args.retention * 86400)
        session = IngestSession(sinks, matcher, policy, chosen_store(args), tuple(args.disk_findings))
        files, errors = ingest(session, args.logs)
        verdicts, incidents, _ = session.finish([f.as_dict() for f in files], errors)
    out = sys.stderr if args.json else sys.stdout
    try:
        console = render_findings(verdicts, out, digest, incidents)
        lines = sum(f.lines for f in files)
        records = sum(f.records for f in files)
        console.print(f"{len(files)} log file(s), {lines:,} lines, {records:,} records read.")
        render_problems(console, [f.as_dict() for f in files], errors)
    except OSError as exc:
        raise OutputError(f"cannot write the summary: {exc.strerror or exc}") from None
    if errors:
        return 2
    return 1 if incidents else 0
