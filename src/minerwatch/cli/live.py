"""`minerwatch live -i IFACE`: the file analysis on packets from live interfaces, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import ExitStack

from minerwatch.capture.live import LiveSource, capture
from minerwatch.cli.options import add_event_options, chosen_detectors
from minerwatch.cli.outputs import event_sinks
from minerwatch.output.console import FindingDigest, render_summary
from minerwatch.pipeline import Analysis, AnalysisOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "live",
        help="analyse packets from network interfaces until stopped (SIGTERM or Ctrl-C)",
        description="Read packets from live interfaces (AF_PACKET, TPACKET_V3 ring) and analyse them as "
        "`analyze` does a capture file. SIGTERM or SIGINT stops reading; verdicts and statistics are then "
        "written and outputs closed. Needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode).",
        epilog="Exit status: 0 nothing found, 1 an incident, mining, alerts or brute force found, 2 usage "
        "error or an interface that cannot be read; 130 when a second signal interrupts the final flush.",
    )
    p.add_argument(
        "-i",
        "--interface",
        action="append",
        required=True,
        metavar="IFACE",
        help="network interface to read (repeatable)",
    )
    p.add_argument("--bpf", metavar="FILTER", help="tcpdump filter expression, compiled by libpcap")
    p.add_argument("--no-promisc", action="store_true", help="do not put interfaces in promiscuous mode")
    add_event_options(p)
    p.set_defaults(func=run)


class StopSignals:
    """SIGTERM and SIGINT ask the capture to stop (it then flushes everything); a second signal during the
    flush interrupts it (KeyboardInterrupt: exit 130)."""

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> StopSignals:
        self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self) -> bool:
        return self.requested

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace) -> int:
    options = AnalysisOptions(
        detectors=chosen_detectors(args),
        show_secrets=args.show_secrets,
        intel_db=args.intel_db,
    )
    digest = FindingDigest()
    with ExitStack() as stack:
        stop = stack.enter_context(StopSignals())
        analysis = Analysis([digest, *event_sinks(stack, args.output, args.json, ())], options)
        sources = []
        for interface in dict.fromkeys(args.interface):
            source = LiveSource(interface, args.bpf, promiscuous=not args.no_promisc)
            stack.callback(source.close)
            sources.append(source)
        print(
            f"minerwatch: capturing on {', '.join(s.interface for s in sources)}", file=sys.stderr, flush=True
        )
        capture(sources, analysis.engine, stop)
        analysis.files.extend(source.stats() for source in sources)
        result = analysis.finish()
    out = sys.stderr if args.json else sys.stdout
    render_summary(result.verdicts, result.stats, out, digest, result.incidents)
    return 1 if result.incidents or result.verdicts or digest.total else 0
