"""`minerwatch correlate --nats URL`: incidents from what many sensors publish (docs/deploy.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from minerwatch.cli.options import add_output_options, add_store_options, chosen_store, whole
from minerwatch.correlate.incidents import IncidentPolicy
from minerwatch.errors import OutputError
from minerwatch.events import Event
from minerwatch.output.console import FindingDigest, render_findings
from minerwatch.output.jsonlines import JsonLinesWriter
from minerwatch.output.terminal import visible

if TYPE_CHECKING:
    from minerwatch.bus.correlator import BusCorrelator
    from minerwatch.bus.wire import BusMessageError

SNAPSHOT_EVERY = 50_000  # messages read between two snapshots of the correlator's state
REJECTIONS_SHOWN = 20  # lines about bad messages; the rest are counted in the stats event and summary


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "correlate",
        help="build incidents from what sensors publish to NATS JetStream (analyze/live --nats)",
        description="Read the observations sensors publish to NATS JetStream (`analyze --nats`, `live "
        "--nats`) and correlate them per host into verdicts and incidents, as `analyze` does for one "
        "capture. Each partition of hosts has its own correlator (--partition). The stream is read from "
        "its start, or with -o FILE from the correlator's last snapshot (FILE.snapshot); a restarted "
        "correlator writes only what the file does not hold yet.",
        epilog="Exit status: 0 nothing found, 1 an incident or verdict found, 2 usage error, a NATS server "
        "that cannot be reached, or an output that could not be written. Bad messages are counted and "
        "skipped.",
    )
    p.add_argument("--nats", required=True, metavar="URL", help="NATS server, e.g. nats://127.0.0.1:4222")
    p.add_argument(
        "--partition",
        type=whole(0, 1023),
        default=0,
        metavar="K",
        help="the partition of hosts this correlator owns (default 0)",
    )
    p.add_argument(
        "--partitions",
        type=whole(1, 1024),
        metavar="N",
        help="partitions of a stream made now (default 1); an existing stream keeps its own",
    )
    p.add_argument(
        "--follow",
        action="store_true",
        help="keep reading new messages until SIGTERM or SIGINT (default: stop once the stream is read)",
    )
    p.add_argument(
        "--snapshot-every",
        type=whole(0, 1 << 40),
        default=SNAPSHOT_EVERY,
        metavar="N",
        help=f"with -o FILE, save the correlator's state to FILE.snapshot every N messages read and when it "
        f"stops, so that a restart reads only the messages after it (default {SNAPSHOT_EVERY:,}; 0: never)",
    )
    add_output_options(p)
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the NATS client and asyncio (OpenSSL with it) cost every other subcommand about 6 MiB
    # of peak memory and 0.15 s of start-up, since the CLI registers every subcommand's options.
    import asyncio

    from minerwatch.bus.consume import correlate
    from minerwatch.bus.correlator import BusCorrelator
    from minerwatch.bus.resume import ResumePoint, resume_point
    from minerwatch.bus.snapshot import Snapshots

    digest = FindingDigest()
    policy = IncidentPolicy(retention=args.retention * 86400)
    resume = resume_point(args.output) if args.output else ResumePoint()
    rejected = 0

    def say(line: str) -> None:
        print(f"minerwatch: {visible(line)}", file=sys.stderr)

    def dropped(first: int, last: int) -> None:
        say(
            f"messages {first:,}-{last:,} of the stream were dropped by its limits before this correlator "
            f"read them: what they held of partition {args.partition} is missing from its view"
        )

    def reject(seq: int, subject: str, exc: BusMessageError) -> None:
        nonlocal rejected
        rejected += 1
        if rejected <= REJECTIONS_SHOWN:
            print(
                f"minerwatch: message {seq} ({visible(subject)[:120]}) skipped: {visible(str(exc))}",
                file=sys.stderr,
            )

    with ExitStack() as stack:
        writers = [JsonLinesWriter(args.output, append=True)] if args.output else []
        writers += [JsonLinesWriter("-")] if args.json else []
        for writer in writers:
            stack.callback(writer.close)
        sinks: list[Callable[[Event], None]] = [digest, *(w.write for w in writers)]

        def make(partitions: int) -> BusCorrelator:
            return BusCorrelator(sinks, partitions, args.partition, policy, chosen_store(args), resume)

        def flush() -> None:
            for writer in writers:
                writer.flush()

        snapshots = None
        if args.output and args.snapshot_every:
            snapshots = Snapshots(args.output, args.snapshot_every, say)
        correlator, (verdicts, incidents, _) = asyncio.run(
            correlate(
                args.nats,
                args.partition,
                args.partitions,
                args.follow,
                make,
                reject,
                flush,
                dropped,
                snapshots,
            )
        )
    out = sys.stderr if args.json else sys.stdout
    try:
        console = render_findings(verdicts, out, digest, incidents)
        bus = correlator.stats
        console.print(
            f"{bus.messages:,} message(s) from {len(bus.sensors):,} sensor(s) read from partition "
            f"{args.partition}: {bus.duplicates:,} duplicate(s) dropped, {bus.republished:,} observation(s) "
            f"of a capture published again dropped, {bus.rejected:,} bad message(s) skipped, "
            f"{bus.replayed:,} replayed without writing (already in the output)."
        )
    except OSError as exc:
        raise OutputError(f"cannot write the summary: {exc.strerror or exc}") from None
    return 1 if incidents or verdicts else 0
